"""Access services: sign-in for staff and patients, and staff account management.

Services add rows to the caller's session and leave the final commit to the view, so a
failed sign-in's attempt row and audit event are kept even though the answer is 401 (staff
sign-in also commits once itself, after counting the attempt and before the slow password
check). Both sign-in
paths do the same work whether or not the account or reference exists, and fail with one
generic message, so neither the answer nor its timing tells a caller which part was wrong.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime

from argon2 import PasswordHasher
from sqlalchemy import Engine, bindparam, select
from sqlmodel import Session

from booking_api.access import passwords, rate_limit, tokens
from booking_api.access.models import (
    AccountRole,
    SessionToken,
    SignInKind,
    StaffCreate,
    StaffUpdate,
    StaffUser,
)
from booking_api.access.policy import AccessPolicy
from booking_api.access.principals import PatientPrincipal, StaffPrincipal
from booking_api.audit.services import Actor, record_audit
from booking_api.core.channel import Channel
from booking_api.patients.models import Patient
from booking_api.requests.booking_reference import (
    BookingReferenceError,
    normalise_booking_reference,
)
from booking_api.requests.models import Request

STAFF_SIGN_IN_FAILED = "Username or password is not right."
PATIENT_SIGN_IN_FAILED = (
    "We could not find a booking with that reference and date of birth. Check both against "
    "your letter or text message and try again.")
_DUMMY_DATE_OF_BIRTH = date(1900, 1, 1)


class AccessError(Exception):
    """An access operation refused; the message is fit to show the caller."""


class StaffNotFound(AccessError):
    pass


class StaffAlreadyExists(AccessError):
    pass


class OwnAccountChange(AccessError):
    pass


class BadBookingReference(AccessError):
    """What was typed cannot be a booking reference (wrong length, letters or check)."""


@dataclass(frozen=True)
class SignInContext:
    """What every sign-in needs besides the credentials."""

    secret: str
    policy: AccessPolicy
    client: str
    now: datetime


def sign_in_staff(session: Session, context: SignInContext, username: str,
                  password: str) -> SessionToken | None:
    """A staff token, or None for a wrong username/password or an inactive account.

    Raises TooManyAttempts. The attempt is counted and committed first; the argon2 check
    then runs outside any transaction (on SQLite a write transaction held through it would
    stall every other writer)."""
    username = username.strip().lower()
    keys = rate_limit.attempt_keys(context.secret, SignInKind.STAFF, username, context.client)
    attempt_id = rate_limit.reserve_attempt(session, context.policy, keys, context.now)
    found = session.execute(
        select(StaffUser.id, StaffUser.password_hash, StaffUser.active)
        .where(StaffUser.username == username)).first()
    session.commit()
    matched = passwords.verify_password(context.policy.password_hasher,
                                        found.password_hash if found else None, password)
    user = session.get(StaffUser, found.id) if matched and found and found.active else None
    if user is None or not user.active:
        record_audit(session, Actor("anonymous", Channel.CLERK), "sign_in_failed",
                     "staff_user", found.id if found else "unknown")
        return None
    rate_limit.mark_succeeded(session, attempt_id)
    hasher = context.policy.password_hasher
    if passwords.needs_rehash(hasher, user.password_hash):
        user.password_hash = passwords.hash_password(hasher, password)
    assert user.id is not None
    record_audit(session, Actor(f"{user.role}:{user.username}", Channel.CLERK, str(user.role)),
                 "sign_in", "staff_user", user.id)
    token, expires = tokens.issue_staff_token(context.secret, user.id, user.role,
                                              user.token_version, context.now,
                                              context.policy.staff_session)
    return SessionToken(access_token=token, expires_at=expires, kind=SignInKind.STAFF,
                        role=user.role)


def sign_in_patient(session: Session, context: SignInContext, booking_reference: str,
                    date_of_birth: date) -> SessionToken | None:
    """A patient token, or None when the reference is unknown or the date does not match.

    Raises BadBookingReference (malformed; says nothing about existence) and
    TooManyAttempts."""
    try:
        reference = normalise_booking_reference(booking_reference)
    except BookingReferenceError as error:
        raise BadBookingReference(str(error)) from error
    keys = rate_limit.attempt_keys(context.secret, SignInKind.PATIENT, reference,
                                   context.client)
    attempt_id = rate_limit.reserve_attempt(session, context.policy, keys, context.now)
    found = session.execute(
        select(Request.id, Request.patient_id, Patient.date_of_birth)
        .join(Patient, Patient.id == Request.patient_id)
        .where(Request.booking_reference == reference)).first()
    matched = dates_of_birth_match(context.secret, found.date_of_birth if found else None,
                                   date_of_birth)
    if not matched or found is None:
        record_audit(session, Actor("anonymous", Channel.PORTAL), "sign_in_failed", "patient",
                     found.patient_id if found else "unknown")
        return None
    rate_limit.mark_succeeded(session, attempt_id)
    record_audit(session, Actor(f"patient:{found.patient_id}", Channel.PORTAL, "patient"),
                 "sign_in", "patient", found.patient_id, after={"request_id": found.id})
    token, expires = tokens.issue_patient_token(context.secret, found.patient_id, found.id,
                                                context.now, context.policy.patient_session)
    return SessionToken(access_token=token, expires_at=expires, kind=SignInKind.PATIENT)


def dates_of_birth_match(secret: str, expected: date | None, given: date) -> bool:
    """Constant-time comparison of keyed digests; an unknown reference (`expected` None) is
    compared against a dummy date, so both failures do the same work."""
    stored = _date_digest(secret, expected or _DUMMY_DATE_OF_BIRTH)
    same = hmac.compare_digest(stored, _date_digest(secret, given))
    return same and expected is not None


def create_staff(session: Session, actor: Actor, account: StaffCreate,
                 hasher: PasswordHasher) -> StaffUser:
    """Add an account (argon2 hash only). Raises WeakPassword, StaffAlreadyExists."""
    passwords.check_password_policy(account.password, account.username)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == account.username)):
        raise StaffAlreadyExists(f"a staff account named '{account.username}' already exists")
    user = StaffUser(username=account.username, display_name=account.display_name,
                     role=account.role,
                     password_hash=passwords.hash_password(hasher, account.password))
    session.add(user)
    session.flush()
    assert user.id is not None
    record_audit(session, actor, "create", "staff_user", user.id, after=_public_fields(user))
    return user


def update_staff(session: Session, actor: Actor, username: str, changes: StaffUpdate,
                 acting_username: str | None = None) -> StaffUser:
    """Change display name, role or active flag; a role or active change revokes the
    account's tokens. An admin may not demote or deactivate themselves (no lock-out)."""
    user = _staff_by_username(session, username)
    if user.username == acting_username and (
            changes.active is False or changes.role not in (None, AccountRole.ADMIN)):
        raise OwnAccountChange("you cannot remove your own admin role or deactivate your own "
                               "account: ask another admin")
    before = _public_fields(user)
    for field in ("display_name", "role", "active"):
        value = getattr(changes, field)
        if value is not None:
            setattr(user, field, value)
    if (user.role, user.active) != (before["role"], before["active"]):
        user.token_version += 1
    after = _public_fields(user)
    if after != before:
        record_audit(session, actor, "update", "staff_user", user.id or 0, before=before,
                     after=after)
    return user


def set_staff_password(session: Session, actor: Actor, username: str, password: str,
                       hasher: PasswordHasher) -> StaffUser:
    """Replace an account's password (revoking its tokens). Raises WeakPassword."""
    user = _staff_by_username(session, username)
    passwords.check_password_policy(password, user.username)
    user.password_hash = passwords.hash_password(hasher, password)
    user.token_version += 1
    record_audit(session, actor, "set_password", "staff_user", user.id or 0)
    return user


def list_staff(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def _staff_by_username(session: Session, username: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.lower()))
    if user is None:
        raise StaffNotFound(f"no staff account named '{username}'")
    return user


def _public_fields(user: StaffUser) -> dict[str, object]:
    return {"username": user.username, "display_name": user.display_name,
            "role": str(user.role), "active": user.active}


def _date_digest(secret: str, day: date) -> bytes:
    return hmac.new(secret.encode(), day.isoformat().encode(), hashlib.sha256).digest()


_PATIENT_REQUESTS = select(Request.id).where(Request.patient_id == bindparam("patient_id"))
"""Built once: every signed-in patient request runs it."""


def patient_principal(engine: Engine, claims: tokens.PatientClaims) -> PatientPrincipal | None:
    """The signed-in patient with the requests they may see, or None when the request they
    signed in with is no longer theirs. `engine`: the database's `lookup` engine."""
    with engine.connect() as connection:
        request_ids = frozenset(connection.scalars(_PATIENT_REQUESTS,
                                                   {"patient_id": claims.patient_id}))
    if claims.request_id not in request_ids:
        return None
    return PatientPrincipal(patient_id=claims.patient_id,
                            signed_in_request_id=claims.request_id, request_ids=request_ids)


_STAFF = select(StaffUser.username, StaffUser.display_name, StaffUser.role, StaffUser.active,
                StaffUser.token_version).where(StaffUser.id == bindparam("staff_id"))
"""Built once: every signed-in staff request runs it."""


def staff_principal(engine: Engine, claims: tokens.StaffClaims) -> StaffPrincipal:
    """The signed-in staff member; InvalidToken when the account is inactive or changed
    since the token was issued (its tokens were revoked). `engine`: the `lookup` engine."""
    with engine.connect() as connection:
        row = connection.execute(_STAFF, {"staff_id": claims.staff_id}).first()
    if row is None or not row.active:
        raise tokens.InvalidToken("this staff account is no longer active")
    if row.token_version != claims.token_version:
        raise tokens.InvalidToken("your account changed since you signed in: sign in again")
    return StaffPrincipal(staff_id=claims.staff_id, username=row.username,
                          display_name=row.display_name, role=AccountRole(row.role))

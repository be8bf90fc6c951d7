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
from sqlalchemy import Engine, bindparam, select, update
from sqlmodel import Session

from booking_api.access import passwords, rate_limit, second_factor, sessions, tokens
from booking_api.access.changes import SignInThrottled
from booking_api.access.models import (
    AccessSession,
    AccountRole,
    SecondFactorEnrolment,
    SessionToken,
    SignInKind,
    StaffCreate,
    StaffUpdate,
    StaffUser,
)
from booking_api.access.policy import AccessPolicy
from booking_api.access.principals import PatientPrincipal, StaffPrincipal
from booking_api.audit.services import Actor, record_audit
from booking_api.core.changes import note_change
from booking_api.core.channel import Channel
from booking_api.patients.models import Patient
from booking_api.requests.booking_reference import (
    BookingReferenceError,
    normalise_booking_reference,
)
from booking_api.requests.models import Request

STAFF_SIGN_IN_FAILED = "Username, password or one-time code is not right."
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


class WrongPassword(AccessError):
    pass


class WrongCode(AccessError):
    pass


class SecondFactorAlreadySet(AccessError):
    pass




@dataclass(frozen=True)
class SignInContext:
    """What every sign-in needs besides the credentials."""

    secret: str
    policy: AccessPolicy
    client: str
    now: datetime


def refuse_staff_while_limited(session: Session, context: SignInContext,
                               username: str) -> None:
    """Raise TooManyAttempts if this sign-in would be refused for now: a read, before the
    write transaction that counts the attempt (and checks again under its lock), so that a
    flood of refused attempts never queues for SQLite's one write lock."""
    keys = rate_limit.attempt_keys(context.secret, SignInKind.STAFF, username.strip().lower(),
                                   context.client)
    rate_limit.check_not_limited(session, context.policy, keys, context.now)


def refuse_patient_while_limited(session: Session, context: SignInContext,
                                 booking_reference: str) -> None:
    """As `refuse_staff_while_limited`, for a patient's booking reference (BadBookingReference
    for a malformed one)."""
    keys = rate_limit.attempt_keys(context.secret, SignInKind.PATIENT,
                                   _reference(booking_reference), context.client)
    rate_limit.check_not_limited(session, context.policy, keys, context.now)


def sign_in_staff(session: Session, context: SignInContext, username: str,
                  password: str, one_time_code: str | None = None) -> SessionToken | None:
    """A staff token, or None for a wrong username, password or one-time code (an account
    with a second factor needs all three) or an inactive account.

    Raises HashingBusy (before anything is counted) and TooManyAttempts (before any password
    is hashed). The attempt is counted and committed first; the argon2 check then runs
    outside any transaction (on SQLite a write transaction held through it would stall
    every other writer), in one of the process's few hashing slots."""
    username = username.strip().lower()
    keys = rate_limit.attempt_keys(context.secret, SignInKind.STAFF, username, context.client)
    with context.policy.hashing.slot():
        reservation = rate_limit.reserve_attempt(session, context.policy, keys, context.now)
        found = session.execute(
            select(StaffUser.id, StaffUser.password_hash, StaffUser.active)
            .where(StaffUser.username == username)).first()
        session.commit()
        matched = passwords.verify_password(context.policy.password_hasher,
                                            found.password_hash if found else None, password)
    user = session.get(StaffUser, found.id) if matched and found and found.active else None
    second_factor = user is not None and user.totp_secret is not None
    if user is not None and second_factor and not _code_accepted(session, user, one_time_code,
                                                                 context.now):
        user = None
    if user is None or not user.active:
        subject = found.id if found else "unknown"
        record_audit(session, Actor("anonymous", Channel.CLERK), "sign_in_failed",
                     "staff_user", subject)
        _note_if_throttled(session, context, reservation, "staff_user", subject)
        return None
    rate_limit.mark_succeeded(session, reservation.attempt_id)
    hasher = context.policy.password_hasher
    if passwords.needs_rehash(hasher, user.password_hash):
        user.password_hash = passwords.hash_password(hasher, password)
    record_audit(session, _staff_actor(user), "sign_in", "staff_user", user.id or 0,
                 after={"second_factor": second_factor})
    return _staff_token(session, context, user, second_factor)


def sign_in_patient(session: Session, context: SignInContext, booking_reference: str,
                    date_of_birth: date) -> SessionToken | None:
    """A patient token, or None when the reference is unknown or the date does not match.

    Raises BadBookingReference (malformed; says nothing about existence) and
    TooManyAttempts."""
    reference = _reference(booking_reference)
    keys = rate_limit.attempt_keys(context.secret, SignInKind.PATIENT, reference,
                                   context.client)
    reservation = rate_limit.reserve_attempt(session, context.policy, keys, context.now)
    found = session.execute(
        select(Request.id, Request.patient_id, Patient.date_of_birth)
        .join(Patient, Patient.id == Request.patient_id)
        .where(Request.booking_reference == reference)).first()
    matched = dates_of_birth_match(context.secret, found.date_of_birth if found else None,
                                   date_of_birth)
    if not matched or found is None:
        subject = found.patient_id if found else "unknown"
        record_audit(session, Actor("anonymous", Channel.PORTAL), "sign_in_failed", "patient",
                     subject)
        _note_if_throttled(session, context, reservation, "patient", subject)
        return None
    rate_limit.mark_succeeded(session, reservation.attempt_id)
    record_audit(session, Actor(f"patient:{found.patient_id}", Channel.PORTAL, "patient"),
                 "sign_in", "patient", found.patient_id, after={"request_id": found.id})
    row = sessions.open_session(session, SignInKind.PATIENT, context.now,
                                context.policy.patient_session, patient_id=found.patient_id)
    token, expires = tokens.issue_patient_token(context.secret, row.id, found.patient_id,
                                                found.id, context.now,
                                                context.policy.patient_session)
    return SessionToken(access_token=token, expires_at=expires, kind=SignInKind.PATIENT)


def sign_out(session: Session, actor: Actor, session_id: str, now: datetime) -> None:
    """End one sign-in (this token); audited. Signing out twice is not an error."""
    if sessions.revoke_session(session, session_id, now):
        entity, entity_id = _subject_of(actor)
        record_audit(session, actor, "sign_out", entity, entity_id)


def sign_out_everywhere(session: Session, actor: Actor, now: datetime, *,
                        staff_id: int | None = None, patient_id: int | None = None) -> int:
    """End every sign-in of one staff member (their token version is raised too) or one
    patient; audited. Returns how many were open."""
    if staff_id is not None:
        session.execute(update(StaffUser).where(StaffUser.id == staff_id)
                        .values(token_version=StaffUser.token_version + 1))
    ended = sessions.revoke_all_sessions(session, now, staff_id=staff_id,
                                         patient_id=patient_id)
    entity, entity_id = _subject_of(actor)
    record_audit(session, actor, "sign_out_everywhere", entity, entity_id,
                 after={"sessions_ended": ended})
    return ended


def change_own_password(session: Session, context: SignInContext, staff_id: int,
                        current_password: str, new_password: str) -> SessionToken:
    """Replace a signed-in staff member's password, given the current one: every other
    sign-in of theirs ends, and this one is replaced by the token returned.

    Raises WrongPassword (counted like a failed sign-in), WeakPassword, TooManyAttempts and
    HashingBusy; nothing changes on any of them."""
    user = session.get(StaffUser, staff_id)
    if user is None or not user.active:
        raise StaffNotFound("this staff account is no longer active")
    passwords.check_password_policy(new_password, user.username)
    keys = rate_limit.attempt_keys(context.secret, SignInKind.STAFF, user.username,
                                   context.client)
    with context.policy.hashing.slot():
        reservation = rate_limit.reserve_attempt(session, context.policy, keys, context.now)
        session.commit()
        matched = passwords.verify_password(context.policy.password_hasher,
                                            user.password_hash, current_password)
        if not matched:
            raise WrongPassword("Your current password is not right.")
        new_hash = passwords.hash_password(context.policy.password_hasher, new_password)
    rate_limit.mark_succeeded(session, reservation.attempt_id)
    user.password_hash = new_hash
    user.token_version += 1
    sessions.revoke_all_sessions(session, context.now, staff_id=staff_id)
    record_audit(session, _staff_actor(user), "change_password", "staff_user", staff_id)
    return _staff_token(session, context, user, second_factor=user.totp_secret is not None)


def start_second_factor(session: Session, staff_id: int) -> SecondFactorEnrolment:
    """Offer a new TOTP key to a staff member without one (kept pending until a code from
    it is confirmed). Raises SecondFactorAlreadySet: replacing a key takes an admin, so a
    stolen session cannot swap in the thief's."""
    user = _active_staff(session, staff_id)
    if user.totp_secret is not None:
        raise SecondFactorAlreadySet("two-step sign-in is already set up for this account: "
                                     "ask an admin to reset it if you lost your device")
    user.totp_pending_secret = second_factor.new_secret()
    record_audit(session, _staff_actor(user), "second_factor_offered", "staff_user", staff_id)
    return SecondFactorEnrolment(
        secret=user.totp_pending_secret,
        otpauth_uri=second_factor.provisioning_uri(user.totp_pending_secret, user.username))


def confirm_second_factor(session: Session, staff_id: int, session_id: str, code: str,
                          now: datetime) -> None:
    """Turn the pending key on once a code from it is right; this sign-in then counts as
    made with both factors. Raises WrongCode (nothing changes)."""
    user = _active_staff(session, staff_id)
    if user.totp_secret is not None:
        raise SecondFactorAlreadySet("two-step sign-in is already set up for this account")
    pending = user.totp_pending_secret
    step = second_factor.matching_step(pending, code, now, None) if pending else None
    if pending is None or step is None:
        raise WrongCode("That code is not right: enter the 6 digits your authenticator app "
                        "shows now" if pending else "Start setting up two-step sign-in "
                        "first")
    user.totp_secret, user.totp_pending_secret, user.totp_last_step = pending, None, step
    session.execute(update(AccessSession).where(AccessSession.id == session_id)
                    .values(second_factor=True))
    record_audit(session, _staff_actor(user), "second_factor_enabled", "staff_user", staff_id)


def reset_second_factor(session: Session, actor: Actor, username: str) -> StaffUser:
    """Remove an account's TOTP key (a lost device): it sets one up again at its next
    sign-in; every sign-in of it ends."""
    user = _staff_by_username(session, username)
    user.totp_secret = user.totp_pending_secret = user.totp_last_step = None
    user.token_version += 1
    record_audit(session, actor, "second_factor_reset", "staff_user", user.id or 0)
    return user


def unlock_sign_in(session: Session, actor: Actor, secret: str, now: datetime, *,
                   username: str | None = None, booking_reference: str | None = None) -> None:
    """Clear the sign-in delays of an account or a booking reference (an admin, after the
    holder has been checked); audited. Raises StaffNotFound, BadBookingReference."""
    if username is not None:
        user = _staff_by_username(session, username)
        keys = rate_limit.attempt_keys(secret, SignInKind.STAFF, user.username, "")
        entity, entity_id = "staff_user", user.id or 0
    else:
        reference = _reference(booking_reference or "")
        keys = rate_limit.attempt_keys(secret, SignInKind.PATIENT, reference, "")
        patient_id = session.scalar(select(Request.patient_id)
                                    .where(Request.booking_reference == reference))
        entity, entity_id = "patient", patient_id if patient_id is not None else "unknown"
    rate_limit.unlock_subject(session, keys, now)
    record_audit(session, actor, "sign_in_unlocked", entity, entity_id)


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


def _active_staff(session: Session, staff_id: int) -> StaffUser:
    user = session.get(StaffUser, staff_id)
    if user is None or not user.active:
        raise StaffNotFound("this staff account is no longer active")
    return user


def _staff_actor(user: StaffUser) -> Actor:
    return Actor(f"{user.role}:{user.username}", Channel.CLERK, str(user.role))


def _subject_of(actor: Actor) -> tuple[str, int | str]:
    """The audit entity an actor's own sign-in is recorded against."""
    return ("patient", actor.name.split(":", 1)[1]) if actor.role == "patient" \
        else ("staff_user", actor.name)


def _staff_token(session: Session, context: SignInContext, user: StaffUser,
                 second_factor: bool) -> SessionToken:
    assert user.id is not None
    row = sessions.open_session(session, SignInKind.STAFF, context.now,
                                context.policy.staff_session, staff_id=user.id,
                                second_factor=second_factor)
    token, expires = tokens.issue_staff_token(context.secret, row.id, user.id, user.role,
                                              user.token_version, context.now,
                                              context.policy.staff_session)
    required = user.role in context.policy.second_factor_roles and not second_factor
    return SessionToken(access_token=token, expires_at=expires, kind=SignInKind.STAFF,
                        role=user.role, second_factor_required=required)


def _code_accepted(session: Session, user: StaffUser, code: str | None,
                   now: datetime) -> bool:
    """Whether `code` is the account's current one, used for the first time (the step is
    claimed by a conditional UPDATE, so two racing sign-ins cannot both use it)."""
    assert user.totp_secret is not None
    step = second_factor.matching_step(user.totp_secret, code, now, user.totp_last_step) \
        if code else None
    if step is None:
        return False
    claimed = session.execute(update(StaffUser).where(
        StaffUser.id == user.id,
        (StaffUser.totp_last_step.is_(None)) | (StaffUser.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    return bool(claimed.rowcount)


def _note_if_throttled(session: Session, context: SignInContext,
                       reservation: rate_limit.Reservation, entity: str,
                       entity_id: int | str) -> None:
    """The failure that starts a subject's sign-in delays is audited, and a patient told
    (by text and email, through the outbox); staff have no address on record: the audit
    event is their notice."""
    if reservation.subject_failures != context.policy.free_failures_per_subject:
        return
    record_audit(session, Actor("system:access", Channel.SYSTEM), "sign_in_throttled",
                 entity, entity_id, after={"failures": reservation.subject_failures})
    if entity == "patient" and isinstance(entity_id, int):
        note_change(session, SignInThrottled(entity_id, context.now))


def _reference(text: str) -> str:
    try:
        return normalise_booking_reference(text)
    except BookingReferenceError as error:
        raise BadBookingReference(str(error)) from error


def _public_fields(user: StaffUser) -> dict[str, object]:
    return {"username": user.username, "display_name": user.display_name,
            "role": str(user.role), "active": user.active}


def _date_digest(secret: str, day: date) -> bytes:
    return hmac.new(secret.encode(), day.isoformat().encode(), hashlib.sha256).digest()


_PATIENT_REQUESTS = select(Request.id).where(Request.patient_id == bindparam("patient_id"))
_PATIENT_SESSION = select(AccessSession.id).where(
    AccessSession.id == bindparam("session_id"),
    AccessSession.patient_id == bindparam("patient_id"), AccessSession.revoked_at.is_(None))
"""Built once: every signed-in patient request runs them."""


def patient_principal(engine: Engine, claims: tokens.PatientClaims) -> PatientPrincipal | None:
    """The signed-in patient with the requests they may see, or None when the request they
    signed in with is no longer theirs, or they signed out. `engine`: the database's
    `lookup` engine."""
    keys = {"session_id": claims.session_id, "patient_id": claims.patient_id}
    with engine.connect() as connection:
        if connection.scalar(_PATIENT_SESSION, keys) is None:
            return None
        request_ids = frozenset(connection.scalars(_PATIENT_REQUESTS,
                                                   {"patient_id": claims.patient_id}))
    if claims.request_id not in request_ids:
        return None
    return PatientPrincipal(patient_id=claims.patient_id, session_id=claims.session_id,
                            signed_in_request_id=claims.request_id, request_ids=request_ids)


_STAFF = (select(StaffUser.username, StaffUser.display_name, StaffUser.role, StaffUser.active,
                 StaffUser.token_version, AccessSession.revoked_at,
                 AccessSession.second_factor)
          .join(AccessSession, AccessSession.staff_id == StaffUser.id)
          .where(StaffUser.id == bindparam("staff_id"),
                 AccessSession.id == bindparam("session_id")))
"""Built once: every signed-in request runs it (one statement: the account and the sign-in
the token names)."""


def load_staff(engine: Engine, claims: tokens.StaffClaims, policy: AccessPolicy
                ) -> StaffPrincipal:
    with engine.connect() as connection:
        row = connection.execute(_STAFF, {"staff_id": claims.staff_id,
                                          "session_id": claims.session_id}).first()
    if row is None or row.revoked_at is not None:
        raise tokens.InvalidToken("you have signed out: sign in again")
    if not row.active:
        raise tokens.InvalidToken("this staff account is no longer active")
    if row.token_version != claims.token_version:
        raise tokens.InvalidToken("your account changed since you signed in: sign in again")
    role = AccountRole(row.role)
    return StaffPrincipal(staff_id=claims.staff_id, username=row.username,
                          display_name=row.display_name, role=role,
                          session_id=claims.session_id,
                          second_factor=bool(row.second_factor),
                          second_factor_missing=(role in policy.second_factor_roles
                                                 and not row.second_factor))

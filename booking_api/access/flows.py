"""Sign-in and sign-out as the pages use them (the patient portal; the staff console):
each step one transaction, and on every later page the token kept in the browser's session
turned back into whom it names, while its sign-in is still open."""

from __future__ import annotations

from datetime import date, datetime

from booking_api.access import services, tokens
from booking_api.access.models import SecondFactorEnrolment, SessionToken
from booking_api.access.policy import AccessPolicy
from booking_api.access.principals import PatientPrincipal, StaffPrincipal
from booking_api.core.db import Database


def sign_in_patient(db: Database, context: services.SignInContext, booking_reference: str,
                    date_of_birth: date) -> SessionToken | None:
    """The patient's token, or None for no match (`services.PATIENT_SIGN_IN_FAILED` says so
    to the patient). Raises BadBookingReference and TooManyAttempts, changing nothing."""
    with db.reading() as session:
        services.refuse_patient_while_limited(session, context, booking_reference)
    with db.transaction() as session:
        return services.sign_in_patient(session, context, booking_reference, date_of_birth)


def patient_of_token(db: Database, secret: str, token: str, now: datetime
                     ) -> PatientPrincipal | None:
    """Whom a patient token names, while it is valid, its sign-in open and its request
    still theirs."""
    try:
        claims = tokens.read_patient_token(secret, token, now)
    except tokens.InvalidToken:
        return None
    return services.patient_principal(db.lookup, claims)


def sign_out_patient(db: Database, secret: str, token: str, now: datetime) -> None:
    """End the sign-in a patient token belongs to (nothing to do for a token that is no
    longer valid)."""
    principal = patient_of_token(db, secret, token, now)
    if principal is not None:
        with db.transaction() as session:
            services.sign_out(session, principal.actor, principal.session_id, now)


def sign_in_staff(db: Database, context: services.SignInContext, username: str,
                  password: str, one_time_code: str | None = None) -> SessionToken | None:
    """A staff token, or None (`services.STAFF_SIGN_IN_FAILED`). Raises TooManyAttempts
    and passwords.HashingBusy, changing nothing."""
    with db.reading() as session:
        services.refuse_staff_while_limited(session, context, username)
    with db.sessions() as session:  # the service commits the attempt before hashing
        token = services.sign_in_staff(session, context, username, password, one_time_code)
        session.commit()
        return token


def staff_of_token(db: Database, secret: str, token: str, now: datetime,
                   policy: AccessPolicy) -> StaffPrincipal | None:
    """Whom a staff token names, while it is valid, its sign-in open and the account
    unchanged. `second_factor_missing` on the answer: only own-account pages may serve it."""
    try:
        return services.load_staff(db.lookup, tokens.read_staff_token(secret, token, now), policy)
    except tokens.InvalidToken:
        return None


def sign_out_staff(db: Database, staff: StaffPrincipal, now: datetime) -> None:
    with db.transaction() as session:
        services.sign_out(session, staff.actor, staff.session_id, now)


def change_own_password(db: Database, context: services.SignInContext,
                        staff: StaffPrincipal, current_password: str,
                        new_password: str) -> SessionToken:
    """The replacement token. Raises services.WrongPassword (the attempt still counts),
    passwords.WeakPassword, TooManyAttempts and passwords.HashingBusy."""
    with db.sessions() as session:  # the service commits the attempt before hashing
        try:
            token = services.change_own_password(session, context, staff.staff_id,
                                                 current_password, new_password)
        except services.WrongPassword:
            session.commit()
            raise
        session.commit()
        return token


def start_second_factor(db: Database, staff: StaffPrincipal) -> SecondFactorEnrolment:
    """Raises services.SecondFactorAlreadySet."""
    with db.transaction() as session:
        return services.start_second_factor(session, staff.staff_id)


def confirm_second_factor(db: Database, staff: StaffPrincipal, code: str,
                          now: datetime) -> None:
    """Raises services.WrongCode, services.SecondFactorAlreadySet."""
    with db.transaction() as session:
        services.confirm_second_factor(session, staff.staff_id, staff.session_id, code, now)

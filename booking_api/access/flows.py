"""Sign-in as the pages use it: a patient's booking reference and date of birth, a staff
member's username and password (rate limited, audited), and, on every later page, the token
kept in the browser's session turned back into the patient or staff member it names."""

from __future__ import annotations

from datetime import date, datetime

from booking_api.access import services, tokens
from booking_api.access.models import SessionToken
from booking_api.access.principals import PatientPrincipal, StaffPrincipal
from booking_api.core.db import Database


def sign_in_patient(db: Database, context: services.SignInContext, booking_reference: str,
                    date_of_birth: date) -> SessionToken | None:
    """The patient's token, or None for no match (`services.PATIENT_SIGN_IN_FAILED` says so
    to the patient). Raises BadBookingReference and TooManyAttempts, changing nothing."""
    with db.transaction() as session:
        return services.sign_in_patient(session, context, booking_reference, date_of_birth)


def patient_of_token(db: Database, secret: str, token: str, now: datetime
                     ) -> PatientPrincipal | None:
    """Whom a patient token names, while it is valid and its request still theirs."""
    try:
        claims = tokens.read_patient_token(secret, token, now)
    except tokens.InvalidToken:
        return None
    return services.patient_principal(db.lookup, claims)


def sign_in_staff(db: Database, context: services.SignInContext, username: str,
                  password: str) -> SessionToken | None:
    """A staff token, or None for a wrong username or password or an inactive account
    (`services.STAFF_SIGN_IN_FAILED` says so). Raises TooManyAttempts. The attempt and the
    audit event are kept whatever the answer."""
    with db.sessions() as session:
        try:
            token = services.sign_in_staff(session, context, username, password)
        except BaseException:
            session.rollback()
            raise
        session.commit()
        return token


def staff_of_token(db: Database, secret: str, token: str, now: datetime
                   ) -> StaffPrincipal | None:
    """Whom a staff token names, while it is valid and the account unchanged and active."""
    try:
        return services.staff_principal(db.lookup, tokens.read_staff_token(secret, token, now))
    except tokens.InvalidToken:
        return None

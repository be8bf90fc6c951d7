"""Patient sign-in as the pages use it: check a booking reference and date of birth (rate
limited, audited, one transaction) and, on every later page, turn the token kept in the
browser's session back into the patient it names."""

from __future__ import annotations

from datetime import date, datetime

from booking_api.access import services, tokens
from booking_api.access.models import SessionToken
from booking_api.access.principals import PatientPrincipal
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

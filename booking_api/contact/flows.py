"""Changing contact details from the portal. A new mobile number (a UK mobile, checked with
libphonenumber) or email address gets a one-time code through the outbox; only the right
code, in time, puts it on the patient's record, so no other message ever goes to an
address nobody has confirmed. The preference (text, email, both, or letters) is refused
when it names a channel with no confirmed address. Every change is audited (without the
addresses or codes) and the patient's open requests re-evaluated (the self-booking rule
reads the contact details)."""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from booking_api.audit.services import Actor, record_audit
from booking_api.core.db import Database
from booking_api.outbox.enqueue import queue_contact_code
from booking_api.outbox.models import MessageChannel
from booking_api.patients.contact_verification import ContactVerification
from booking_api.patients.models import ContactPreference, Patient
from booking_api.requests.models import Request
from booking_api.requests.services import EVALUATED_STATES, reevaluate_request
from notifications.contact_code import CODE_MINUTES
from notifications.errors import InvalidFieldError
from notifications.phone_numbers import display_phone_number, e164_mobile_number

__all__ = ["ContactDetails", "ContactPreference", "ContactRefused", "MessageChannel",
           "confirm_code", "contact_details", "set_preference", "start_check"]
"""The channel and preference types are re-exported: pages name them from here."""

MAX_CODES_PER_HOUR = 5
MAX_WRONG_CODES = 5
CODE_DIGITS = 6
MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
FIELDS = {MessageChannel.SMS: "mobile", MessageChannel.EMAIL: "email"}


class ContactRefused(ValueError):
    """A contact change that cannot be made; `field` is the form field to name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ContactDetails:
    phone: str | None
    """E.164, confirmed (or from the referral)."""
    email: str | None
    preference: ContactPreference

    @property
    def phone_shown(self) -> str | None:
        """The number as people write it (07700 900123)."""
        return display_phone_number(self.phone) if self.phone else None


def contact_details(db: Database, patient_id: int) -> ContactDetails:
    with db.reading() as session:
        patient = _patient(session, patient_id)
        return ContactDetails(patient.phone, patient.email,
                              ContactPreference(patient.contact_preference))


def start_check(db: Database, patient_id: int, channel: MessageChannel, text: str,
                now: datetime, actor: Actor, *, fictional_numbers: bool = False) -> int:
    """Send a code to the new address; returns the check's id (ContactRefused naming the
    field when the address is not a UK mobile or an email address, or too many codes were
    asked for this hour)."""
    address = _address(channel, text, fictional_numbers)
    with db.transaction() as session:
        _patient(session, patient_id)
        recent = session.exec(select(func.count()).select_from(ContactVerification).where(
            ContactVerification.patient_id == patient_id,
            col(ContactVerification.created_at) > now - timedelta(hours=1))).one()
        if recent >= MAX_CODES_PER_HOUR:
            raise ContactRefused(FIELDS[channel], "You have asked for too many codes. "
                                 "Wait an hour and try again")
        check = ContactVerification(
            patient_id=patient_id, channel=channel.value, address=address,
            code=f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}",
            expires_at=now + timedelta(minutes=CODE_MINUTES), created_at=now)
        session.add(check)
        session.flush()
        assert check.id is not None
        queue_contact_code(session, patient_id, check.id, channel, now)
        record_audit(session, actor, "patient.contact_check", "patient", patient_id,
                     after={"channel": channel.value, "check_id": check.id})
        return check.id


def confirm_code(db: Database, patient_id: int, check_id: int, text: str, now: datetime,
                 actor: Actor) -> MessageChannel:
    """Put the checked address on the record if `text` is its code; ContactRefused (field
    `code`) otherwise, a wrong code counted."""
    code = text.strip().replace(" ", "")
    if not code:
        raise ContactRefused("code", "Enter the security code")
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        raise ContactRefused("code", f"The security code must be {CODE_DIGITS} numbers")
    with db.transaction() as session:
        check = session.get(ContactVerification, check_id, with_for_update=True)
        problem = _problem(check, patient_id, now)
        if problem is None and check is not None and not hmac.compare_digest(code, check.code):
            check.attempts += 1
            session.add(check)
            problem = "The security code is not right. Check it and try again"
        if problem is None and check is not None:
            _confirm(session, check, now, actor)
            return MessageChannel(check.channel)
    raise ContactRefused("code", problem or "Request a new security code")


def set_preference(db: Database, patient_id: int, preference: ContactPreference,
                   actor: Actor) -> None:
    """How the patient wants to hear from us; refused (field `preference`) for a channel
    with no confirmed address."""
    with db.transaction() as session:
        patient = _patient(session, patient_id)
        texts = preference in (ContactPreference.SMS, ContactPreference.BOTH)
        emails = preference in (ContactPreference.EMAIL, ContactPreference.BOTH)
        if texts and not patient.phone:
            raise ContactRefused("preference", "Add a mobile number before choosing "
                                 "text messages")
        if emails and not patient.email:
            raise ContactRefused("preference", "Add an email address before choosing email")
        before = ContactPreference(patient.contact_preference)
        patient.contact_preference = preference
        session.add(patient)
        record_audit(session, actor, "patient.contact_preference", "patient", patient_id,
                     before={"preference": before.value},
                     after={"preference": preference.value})


def _address(channel: MessageChannel, text: str, fictional_numbers: bool) -> str:
    if channel is MessageChannel.SMS:
        if not text.strip():
            raise ContactRefused("mobile", "Enter your mobile number")
        try:
            number = e164_mobile_number(text, "mobile", fictional=fictional_numbers)
        except InvalidFieldError:
            raise ContactRefused("mobile", "Enter a UK mobile number, like 07700 900 982"
                                 ) from None
        if not number.startswith("+44"):
            raise ContactRefused("mobile", "Enter a UK mobile number, like 07700 900 982")
        return number
    email = text.strip()
    if not email:
        raise ContactRefused("email", "Enter your email address")
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise ContactRefused("email", "Enter an email address in the correct format, "
                             "like name@example.com")
    local, domain = email.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def _problem(check: ContactVerification | None, patient_id: int, now: datetime) -> str | None:
    if check is None or check.patient_id != patient_id or check.confirmed_at is not None:
        return "Request a new security code"
    if check.expires_at <= now:
        return "The security code has expired. Request a new one"
    if check.attempts >= MAX_WRONG_CODES:
        return "You have entered a wrong code too many times. Request a new one"
    return None


def _confirm(session: Session, check: ContactVerification, now: datetime,
             actor: Actor) -> None:
    patient = _patient(session, check.patient_id)
    check.confirmed_at = now
    if check.channel == MessageChannel.SMS.value:
        patient.phone, patient.sms_opt_out = check.address, False  # STOP was the old number's
    else:
        patient.email = check.address
    session.add_all([check, patient])
    record_audit(session, actor, "patient.contact_confirmed", "patient", check.patient_id,
                 after={"channel": check.channel, "check_id": check.id})
    session.flush()
    for request in session.exec(select(Request).where(
            Request.patient_id == check.patient_id,
            col(Request.state).in_(EVALUATED_STATES))).all():
        reevaluate_request(session, request)


def _patient(session: Session, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise ContactRefused("patient", f"there is no patient {patient_id}")
    return patient

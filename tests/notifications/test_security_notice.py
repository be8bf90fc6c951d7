"""The notice a patient gets when failed sign-ins with their booking reference start
slowing it down: a short GSM-7 text and an email, both saying what happened and where to
go, neither naming the reference, an examination or asking for a reply Twilio acts on."""

from __future__ import annotations

import re

from notifications.events import MessageEvent
from notifications.notice import ServiceDetails
from notifications.security_notice import sign_in_throttled_email, sign_in_throttled_sms
from notifications.wording import is_gsm7, sms_segments

SERVICE = ServiceDetails(portal_url="https://book.example.nhs.uk", phone="0121 496 0000",
                         email_from="appointments@example.nhs.uk")


def test_the_text_says_what_happened_and_where_to_go_in_two_segments() -> None:
    text = sign_in_throttled_sms(SERVICE)

    assert text.startswith(f"{SERVICE.sms_name}:")
    assert "tried many times to sign in" in text
    assert SERVICE.portal_url in text and SERVICE.phone in text
    assert is_gsm7(text) and sms_segments(text) <= 2
    assert not re.search(r"\b[Rr]eply\b", text)


def test_the_email_greets_the_patient_and_carries_no_invite() -> None:
    email = sign_in_throttled_email(SERVICE, "Sam Patel")

    assert email.subject == "Several attempts to sign in with your booking reference"
    assert "Dear Sam Patel" in email.text and "Sam Patel" in email.html
    assert SERVICE.portal_url in email.text and SERVICE.phone in email.text
    assert email.calendar is None and email.calendar_method is None


def test_the_notice_is_not_about_an_appointment() -> None:
    assert not MessageEvent.SIGN_IN_THROTTLED.about_an_appointment
    assert MessageEvent.SIGN_IN_THROTTLED.calendar_method is None

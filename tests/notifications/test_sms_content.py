"""Text messages: every event's text, over every exam in the catalogue, names no examination
and no clinical detail (anyone holding the phone can read it), carries the time in UK local
time, the site and the portal link (never the booking reference), fits the GSM alphabet in
at most three segments, and never asks for a reply that Twilio would act on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from notifications.errors import InvalidFieldError
from notifications.events import MessageEvent
from notifications.notice import Venue
from notifications.replies import TWILIO_KEYWORDS
from notifications.sms_content import MAX_SMS_SEGMENTS, sms_text
from notifications.wording import is_gsm7, sms_segments
from tests.notifications.conftest import EXAMS, SERVICE, SUMMER_START, VENUE, notice_for

CLINICAL_WORDS = {
    "mri", "mr", "ct", "x-ray", "xray", "ultrasound", "scan", "scanner", "fluoroscopy",
    "contrast", "dye", "radiology", "radiographer", "imaging", "injection", "fasting",
    "bladder", "pregnancy", "pregnant", "sedation", "biopsy", "cancer",
}
PREVIOUS_START = SUMMER_START - timedelta(days=3)

APPOINTMENT_EVENTS = [event for event in MessageEvent if event.about_an_appointment]
"""Messages about an appointment (the sign-in notice is tested in test_security_notice)."""


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z\-]*", text.lower()))


def _forbidden_terms(code: str) -> set[str]:
    exam = EXAMS[code]
    return {exam.name.lower(), exam.code.lower(), exam.family.value.lower(),
            exam.body_part.lower(), exam.preparation.lower()}


@pytest.mark.parametrize("event", APPOINTMENT_EVENTS)
@pytest.mark.parametrize("code", sorted(EXAMS))
def test_no_text_names_the_exam_or_a_clinical_detail(event: MessageEvent, code: str) -> None:
    notice = notice_for(EXAMS[code], previous_start=PREVIOUS_START,
                        reason="the scanner needs repair")
    text = sms_text(event, notice, SERVICE)
    without_site = text.replace(VENUE.name, "")

    lowered = without_site.lower()
    assert not [term for term in _forbidden_terms(code)
                if re.search(rf"\b{re.escape(term)}\b", lowered)]
    assert not _words(without_site) & CLINICAL_WORDS
    assert notice.reference not in text and "HTK7" not in text
    assert "repair" not in text


@pytest.mark.parametrize("event", APPOINTMENT_EVENTS)
def test_every_text_gives_time_site_and_link_in_uk_time(event: MessageEvent) -> None:
    notice = notice_for(EXAMS["MKNEE"], previous_start=PREVIOUS_START)

    text = sms_text(event, notice, SERVICE)

    assert "Tuesday 14 July" in text and "9:30am" in text  # 08:30 UTC is 9:30am BST
    assert VENUE.name in text
    assert SERVICE.portal_url in text
    assert text.startswith(f"{SERVICE.sms_name}:")


@pytest.mark.parametrize("event", APPOINTMENT_EVENTS)
@pytest.mark.parametrize("code", sorted(EXAMS))
def test_every_text_is_gsm7_within_three_segments(event: MessageEvent, code: str) -> None:
    text = sms_text(event, notice_for(EXAMS[code], previous_start=PREVIOUS_START), SERVICE)
    assert is_gsm7(text)
    assert sms_segments(text) <= MAX_SMS_SEGMENTS
    assert "\n" not in text and "  " not in text


@pytest.mark.parametrize("event", APPOINTMENT_EVENTS)
def test_no_text_asks_for_a_reply_twilio_would_act_on(event: MessageEvent) -> None:
    text = sms_text(event, notice_for(EXAMS["CHEAD"]), SERVICE)
    asked = re.findall(r"\b[Rr]eply ([A-Z]+)|\bor ([A-Z]{3,})\b", text)
    words = {word for pair in asked for word in pair if word}
    assert not words & TWILIO_KEYWORDS


def test_reminders_ask_for_confirm_or_change() -> None:
    text = sms_text(MessageEvent.REMINDER, notice_for(EXAMS["CHEAD"]), SERVICE)
    assert "Reply CONFIRM" in text and "CHANGE" in text


def test_the_arrival_time_is_said_when_the_exam_needs_an_early_arrival() -> None:
    text = sms_text(MessageEvent.BOOKED, notice_for(EXAMS["CCAPC"]), SERVICE)  # 60 min early
    assert "Please arrive by 8:30am" in text


def test_a_winter_appointment_is_told_in_gmt() -> None:
    notice = notice_for(EXAMS["CHEAD"], start=datetime(2026, 1, 13, 14, 15, tzinfo=UTC))
    assert "Tuesday 13 January at 2:15pm" in sms_text(MessageEvent.BOOKED, notice, SERVICE)


def test_the_high_risk_reminder_names_the_cost_when_the_service_sets_one() -> None:
    text = sms_text(MessageEvent.HIGH_RISK_REMINDER, notice_for(EXAMS["CHEAD"]), SERVICE)
    assert "costs the NHS about £160" in text and "someone else" in text


def test_a_moved_appointment_says_sorry_and_the_old_date() -> None:
    notice = notice_for(EXAMS["CHEAD"], previous_start=PREVIOUS_START)
    text = sms_text(MessageEvent.MOVED_BY_SERVICE, notice, SERVICE)
    assert "sorry" in text and "Saturday 11 July" in text


def test_typographic_quotes_in_a_site_name_become_plain_ones() -> None:
    venue = Venue(name="St Mary’s Hospital", address="St Mary’s Hospital, B1")
    text = sms_text(MessageEvent.BOOKED, notice_for(EXAMS["CHEAD"], venue=venue), SERVICE)
    assert "St Mary's Hospital" in text and is_gsm7(text)


def test_a_site_name_too_long_for_three_segments_is_refused_naming_the_site() -> None:
    venue = Venue(name="Hospital " * 40, address="Somewhere, B1")
    with pytest.raises(InvalidFieldError) as caught:
        sms_text(MessageEvent.HIGH_RISK_REMINDER, notice_for(EXAMS["CHEAD"], venue=venue),
                 SERVICE)
    assert caught.value.field == "site"

"""Emails: each event has a subject (no exam name: lock screens show it), a plain-text and an
HTML body that name the test, the time in UK local time, the place and the preparation from
the catalogue, and the calendar invite its event calls for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from icalendar import Calendar

from notifications.calendar_invite import CalendarMethod
from notifications.email_content import email_content
from notifications.events import MessageEvent
from notifications.notice import ServiceDetails, Venue
from tests.notifications.conftest import EXAMS, SERVICE, SUMMER_START, notice_for

STAMP = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
RECIPIENT = "sam@example.com"
SHOWS_PREPARATION = {MessageEvent.BOOKED, MessageEvent.CHANGED, MessageEvent.MOVED_BY_SERVICE,
                     MessageEvent.REMINDER, MessageEvent.HIGH_RISK_REMINDER}

APPOINTMENT_EVENTS = [event for event in MessageEvent if event.about_an_appointment]
"""Messages about an appointment (the sign-in notice is tested in test_security_notice)."""


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _visible_text(html: str) -> str:
    parser = _TextOf()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _content(event: MessageEvent, code: str = "MBRAC", **changes):
    notice = notice_for(EXAMS[code], previous_start=SUMMER_START - timedelta(days=3),
                        **changes)
    return email_content(event, notice, SERVICE, RECIPIENT, STAMP)


@pytest.mark.parametrize("event", APPOINTMENT_EVENTS)
@pytest.mark.parametrize("code", sorted(EXAMS))
def test_no_subject_names_the_exam(event: MessageEvent, code: str) -> None:
    subject = _content(event, code).subject
    assert EXAMS[code].name.lower() not in subject.lower()
    assert "\n" not in subject and subject == subject.strip()


@pytest.mark.parametrize("event", APPOINTMENT_EVENTS)
def test_both_bodies_name_the_test_time_place_and_reference(event: MessageEvent) -> None:
    content = _content(event)
    for body in (content.text, _visible_text(content.html)):
        assert "MRI brain with contrast" in body
        assert "Tuesday 14 July 2026" in body and "9:30am" in body
        assert "Northfield Community Diagnostic Centre" in body
        assert "HTK7 3PQ2" in body
        assert SERVICE.portal_url in body


@pytest.mark.parametrize("event", sorted(SHOWS_PREPARATION))
@pytest.mark.parametrize("code", sorted(EXAMS))
def test_preparation_from_the_catalogue_is_in_both_bodies(event: MessageEvent,
                                                          code: str) -> None:
    content = _content(event, code)
    exam = EXAMS[code]
    for body in (content.text, _visible_text(content.html)):
        assert " ".join(exam.preparation.split()) in " ".join(body.split())
        assert ("MRI uses a strong magnet" in body) == (exam.modality == "MR")
        assert ("contrast dye" in body.lower()) >= exam.contrast


@pytest.mark.parametrize("event", APPOINTMENT_EVENTS)
def test_each_event_carries_the_invite_it_calls_for(event: MessageEvent) -> None:
    content = _content(event)
    expected = {MessageEvent.BOOKED: CalendarMethod.REQUEST,
                MessageEvent.CHANGED: CalendarMethod.REQUEST,
                MessageEvent.MOVED_BY_SERVICE: CalendarMethod.REQUEST,
                MessageEvent.CANCELLED: CalendarMethod.CANCEL,
                MessageEvent.CANCELLED_BY_SERVICE: CalendarMethod.CANCEL}.get(event)
    assert content.calendar_method == expected
    if expected is None:
        assert content.calendar is None
    else:
        assert str(Calendar.from_ical(content.calendar)["method"]) == expected.value


def test_the_arrival_time_comes_from_the_catalogue() -> None:
    content = _content(MessageEvent.BOOKED, "CCAPC")  # arrive 60 minutes early
    assert "Arrive by: 8:30am" in content.text


def test_a_sedation_list_says_the_department_will_phone_the_arrival_time() -> None:
    content = _content(MessageEvent.BOOKED, "MPBRS")
    assert "will phone you with a time to arrive" in content.text


def test_a_service_move_gives_the_reason_and_the_old_time() -> None:
    content = _content(MessageEvent.MOVED_BY_SERVICE, reason="the scanner needs repair")
    assert "because the scanner needs repair" in content.text
    assert "Saturday 11 July 2026 at 9:30am" in content.text


def test_the_html_escapes_what_it_is_given() -> None:
    venue = Venue(name="<script>alert(1)</script> Centre", address="1 <b>High</b> St, B1",
                  step_free=True)
    content = _content(MessageEvent.BOOKED, venue=venue, patient_name="<i>Sam</i>")
    assert "<script>" not in content.html and "&lt;script&gt;" in content.html
    assert "<b>High</b>" not in content.html and "&lt;b&gt;High&lt;/b&gt;" in content.html
    assert "<i>Sam</i>" not in content.html and "&lt;i&gt;Sam&lt;/i&gt;" in content.html


def test_the_high_risk_reminder_asks_to_free_the_time_and_names_the_cost() -> None:
    content = _content(MessageEvent.HIGH_RISK_REMINDER)
    assert "someone else waiting for a test" in content.text
    assert "about £160" in content.text


def test_without_a_cost_set_the_high_risk_reminder_names_none() -> None:
    service = ServiceDetails(portal_url=SERVICE.portal_url, phone=SERVICE.phone,
                             email_from=SERVICE.email_from)
    notice = notice_for(EXAMS["MBRAC"])
    content = email_content(MessageEvent.HIGH_RISK_REMINDER, notice, service, RECIPIENT, STAMP)
    assert "£" not in content.text


def test_the_html_is_a_whole_document_in_british_english() -> None:
    html = _content(MessageEvent.BOOKED).html
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in html
    assert "<title>Appointment booked for Tuesday 14 July 2026 at 9:30am</title>" in html

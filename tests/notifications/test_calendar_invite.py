"""Calendar files: one UID per booking for its whole life, SEQUENCE growing with each change,
METHOD:REQUEST on booking and change, METHOD:CANCEL on cancellation, Europe/London embedded,
the site's address as LOCATION, a reminder alarm and the appointment's own length. Every file
is read back by icalendar and by Mozilla's ical.js."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from notifications.calendar_invite import (
    CalendarAppointment,
    CalendarMethod,
    appointment_calendar,
    event_uid,
)
from notifications.email_content import calendar_appointment, email_content
from notifications.errors import InvalidFieldError
from notifications.events import MessageEvent
from tests.notifications.conftest import (
    EXAMS,
    SERVICE,
    SUMMER_START,
    VENUE,
    WINTER_START,
    notice_for,
)

STAMP = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _appointment(**changes) -> CalendarAppointment:
    values = dict(request_id=77, sequence=0, start=SUMMER_START,
                  end=SUMMER_START + timedelta(minutes=40), summary="MRI knee at Northfield",
                  location=VENUE.address, description="Booking reference HTK7 3PQ2",
                  host="book.example.nhs.uk", organizer_email="bookings@example.nhs.uk",
                  organizer_name="West Midlands Imaging Network",
                  attendee_email="sam@example.com", attendee_name="Sam Patel")
    values.update(changes)
    return CalendarAppointment(**values)


def _event(ics: bytes):
    return Calendar.from_ical(ics).events[0]


def test_uid_is_the_portals_scheme_for_the_booking() -> None:
    assert event_uid(4321, "book.example.nhs.uk") == "booking-4321@book.example.nhs.uk"
    ics = appointment_calendar(_appointment(), CalendarMethod.REQUEST, STAMP)
    assert str(_event(ics)["uid"]) == "booking-77@book.example.nhs.uk"


def test_a_booking_invite_is_a_request_with_organizer_and_attendee() -> None:
    calendar = Calendar.from_ical(appointment_calendar(_appointment(), CalendarMethod.REQUEST,
                                                       STAMP))
    event = calendar.events[0]
    assert str(calendar["method"]) == "REQUEST"
    assert str(event["organizer"]) == "mailto:bookings@example.nhs.uk"
    assert str(event["attendee"]) == "mailto:sam@example.com"
    assert str(event["status"]) == "CONFIRMED"


def test_a_change_keeps_the_uid_and_raises_the_sequence() -> None:
    booked = _event(appointment_calendar(_appointment(sequence=0), CalendarMethod.REQUEST,
                                         STAMP))
    moved = _event(appointment_calendar(
        _appointment(sequence=1, start=SUMMER_START + timedelta(days=2),
                     end=SUMMER_START + timedelta(days=2, minutes=40)),
        CalendarMethod.REQUEST, STAMP))
    assert moved["uid"] == booked["uid"]
    assert int(moved["sequence"]) == int(booked["sequence"]) + 1


def test_a_cancellation_is_a_cancel_of_the_same_uid_with_a_higher_sequence() -> None:
    booked = _event(appointment_calendar(_appointment(sequence=1), CalendarMethod.REQUEST,
                                         STAMP))
    calendar = Calendar.from_ical(appointment_calendar(_appointment(sequence=2),
                                                       CalendarMethod.CANCEL, STAMP))
    cancelled = calendar.events[0]
    assert str(calendar["method"]) == "CANCEL"
    assert cancelled["uid"] == booked["uid"]
    assert int(cancelled["sequence"]) > int(booked["sequence"])
    assert str(cancelled["status"]) == "CANCELLED"
    assert cancelled.walk("VALARM") == []


@pytest.mark.parametrize("start", [SUMMER_START, WINTER_START], ids=["BST", "GMT"])
def test_times_are_written_in_london_with_the_timezone_embedded(start: datetime) -> None:
    calendar = Calendar.from_ical(appointment_calendar(
        _appointment(start=start, end=start + timedelta(minutes=40)), CalendarMethod.REQUEST,
        STAMP))
    event = calendar.events[0]
    assert [str(zone["tzid"]) for zone in calendar.timezones] == ["Europe/London"]
    assert event["dtstart"].params["TZID"] == "Europe/London"
    assert event.start == start
    assert event.end - event.start == timedelta(minutes=40)


def test_location_is_the_address_and_an_alarm_reminds_a_day_before() -> None:
    event = _event(appointment_calendar(_appointment(), CalendarMethod.REQUEST, STAMP))
    assert str(event["location"]) == VENUE.address
    [alarm] = event.walk("VALARM")
    assert alarm["trigger"].dt == timedelta(days=-1)


def test_the_download_file_is_a_publish_without_people() -> None:
    calendar = Calendar.from_ical(appointment_calendar(
        _appointment(organizer_email=None, attendee_email=None), CalendarMethod.PUBLISH, STAMP))
    assert str(calendar["method"]) == "PUBLISH"
    assert "attendee" not in calendar.events[0]


@pytest.mark.parametrize(("changes", "field"), [
    ({"start": datetime(2026, 7, 14, 9, 30)}, "start"),
    ({"end": SUMMER_START}, "end"),
    ({"sequence": -1}, "sequence"),
    ({"host": "bad host"}, "host"),
    ({"host": ""}, "host"),
    ({"alarm_before": timedelta(0)}, "alarm_before"),
])
def test_a_bad_appointment_is_refused_naming_the_field(changes: dict, field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        _appointment(**changes)
    assert caught.value.field == field


@pytest.mark.parametrize("missing", ["organizer_email", "attendee_email"])
@pytest.mark.parametrize("method", [CalendarMethod.REQUEST, CalendarMethod.CANCEL])
def test_an_invite_without_organizer_or_attendee_is_refused(missing: str,
                                                            method: CalendarMethod) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        appointment_calendar(_appointment(**{missing: None}), method, STAMP)
    assert caught.value.field == missing


def test_the_notice_calendar_uses_the_portal_host_and_the_exam_length() -> None:
    notice = notice_for(EXAMS["MBRAC"])
    appointment = calendar_appointment(notice, SERVICE, "sam@example.com")
    assert appointment.uid == "booking-4321@book.example.nhs.uk"
    assert appointment.end - appointment.start == timedelta(minutes=40)
    assert "MRI safety" in appointment.description


# --- read back by a second, independent parser -----------------------------------------------

CALENDAR_EVENTS = [event for event in MessageEvent if event.calendar_method is not None]
STARTS = {  # the UTC instant and its offset from UTC in the UK
    "summer": (SUMMER_START, 3600),
    "winter": (WINTER_START, 0),
    "friday-before-march-change": (datetime(2026, 3, 27, 9, 0, tzinfo=UTC), 0),
    "monday-after-march-change": (datetime(2026, 3, 30, 8, 0, tzinfo=UTC), 3600),
    "friday-before-october-change": (datetime(2026, 10, 23, 8, 0, tzinfo=UTC), 3600),
    "monday-after-october-change": (datetime(2026, 10, 26, 9, 0, tzinfo=UTC), 0),
    "late-december-next-year": (datetime(2027, 12, 30, 10, 0, tzinfo=UTC), 0),
}


@pytest.mark.parametrize("event", CALENDAR_EVENTS)
@pytest.mark.parametrize("when", list(STARTS))
def test_every_invite_reads_the_same_in_icaljs(event: MessageEvent, when: str,
                                               icaljs, tmp_path: Path) -> None:
    start, offset_s = STARTS[when]
    exam = EXAMS["CCAPC"]
    notice = notice_for(exam, start=start, sequence=3)
    content = email_content(event, notice, SERVICE, "sam@example.com", STAMP)
    path = tmp_path / "invite.ics"
    path.write_bytes(content.calendar)

    [parsed] = icaljs([path])

    assert parsed["method"] == event.calendar_method.value
    assert parsed["timezones"] == ["Europe/London"]
    assert parsed["uid"] == "booking-4321@book.example.nhs.uk"
    assert parsed["sequence"] == 3
    assert parsed["start_tzid"] == "Europe/London"
    assert parsed["start_utc"] == start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert parsed["start_utc_offset_s"] == offset_s
    assert parsed["duration_s"] == exam.duration_min * 60
    assert parsed["location"] == VENUE.address
    assert parsed["organizer"] == "mailto:bookings@example.nhs.uk"
    assert parsed["attendee"] == "mailto:sam@example.com"
    cancelled = event.calendar_method is CalendarMethod.CANCEL
    assert parsed["status"] == ("CANCELLED" if cancelled else "CONFIRMED")
    assert parsed["alarm_trigger_s"] == (None if cancelled else -86400)


@pytest.mark.parametrize("start", [SUMMER_START, WINTER_START], ids=["summer", "winter"])
def test_the_embedded_timezone_reads_right_in_icaljs_around_the_year(start: datetime, icaljs,
                                                                     tmp_path: Path) -> None:
    path = tmp_path / "invite.ics"
    path.write_bytes(appointment_calendar(
        _appointment(start=start, end=start + timedelta(minutes=30)), CalendarMethod.REQUEST,
        STAMP))

    [parsed] = icaljs([path])

    expected = {}
    for year in (start.year - 1, start.year, start.year + 1):
        for month in range(1, 13):
            noon = datetime(year, month, 15, 12, tzinfo=ZoneInfo("Europe/London"))
            expected[f"{year}-{month:02d}"] = int(noon.utcoffset().total_seconds())
    assert parsed["monthly_offsets_s"] == expected


def test_every_exam_gives_a_file_both_parsers_read(icaljs, tmp_path: Path) -> None:
    paths = []
    for code, exam in EXAMS.items():
        ics = appointment_calendar(calendar_appointment(notice_for(exam), SERVICE,
                                                        "sam@example.com"),
                                   CalendarMethod.REQUEST, STAMP)
        assert Calendar.from_ical(ics).events[0]["summary"].startswith(exam.name)
        path = tmp_path / f"{code}.ics"
        path.write_bytes(ics)
        paths.append(path)

    parsed = icaljs(paths)

    assert [item["summary"] for item in parsed] == [
        f"{exam.name} at {VENUE.name}" for exam in EXAMS.values()]
    assert [item["duration_s"] for item in parsed] == [
        exam.duration_min * 60 for exam in EXAMS.values()]

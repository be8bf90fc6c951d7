"""Quiet hours: no text between 21:00 and 08:00 UK time; a message due then waits until 08:00
UK time, which is 08:00 UTC in winter and 07:00 UTC in summer, also on the nights the clocks
change."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notifications.errors import InvalidFieldError
from notifications.quiet_hours import QuietHours, earliest_sms_send_time

LONDON = ZoneInfo("Europe/London")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("due_utc", "earliest_utc"), [
    # an ordinary winter day (GMT = UTC)
    ("2026-01-13T12:00", "2026-01-13T12:00"),
    ("2026-01-13T20:59", "2026-01-13T20:59"),
    ("2026-01-13T21:00", "2026-01-14T08:00"),
    ("2026-01-14T03:00", "2026-01-14T08:00"),
    ("2026-01-14T08:00", "2026-01-14T08:00"),
    # an ordinary summer day (BST = UTC+1)
    ("2026-07-14T19:59", "2026-07-14T19:59"),
    ("2026-07-14T20:00", "2026-07-15T07:00"),
    ("2026-07-14T23:30", "2026-07-15T07:00"),
    ("2026-07-15T06:59", "2026-07-15T07:00"),
    # clocks go forward at 01:00 UTC on Sunday 29 March 2026
    ("2026-03-28T21:30", "2026-03-29T07:00"),
    ("2026-03-29T00:30", "2026-03-29T07:00"),
    ("2026-03-29T01:30", "2026-03-29T07:00"),
    ("2026-03-29T06:59", "2026-03-29T07:00"),
    ("2026-03-29T07:00", "2026-03-29T07:00"),
    ("2026-03-29T19:59", "2026-03-29T19:59"),
    ("2026-03-29T20:00", "2026-03-30T07:00"),
    # clocks go back at 01:00 UTC on Sunday 25 October 2026
    ("2026-10-24T20:00", "2026-10-25T08:00"),
    ("2026-10-24T23:59", "2026-10-25T08:00"),
    ("2026-10-25T00:30", "2026-10-25T08:00"),
    ("2026-10-25T01:30", "2026-10-25T08:00"),
    ("2026-10-25T07:30", "2026-10-25T08:00"),
    ("2026-10-25T08:00", "2026-10-25T08:00"),
    ("2026-10-25T20:59", "2026-10-25T20:59"),
    ("2026-10-25T21:00", "2026-10-26T08:00"),
])
def test_earliest_send_time_across_the_year_and_the_clock_changes(due_utc: str,
                                                                  earliest_utc: str) -> None:
    assert earliest_sms_send_time(_utc(due_utc)) == _utc(earliest_utc)


def test_the_answer_is_in_utc_whatever_zone_the_question_was_in() -> None:
    due = datetime(2026, 7, 14, 22, 15, tzinfo=LONDON)
    earliest = earliest_sms_send_time(due)
    assert earliest.utcoffset().total_seconds() == 0
    assert earliest.astimezone(LONDON) == datetime(2026, 7, 15, 8, 0, tzinfo=LONDON)


def test_a_window_within_one_day_works_too() -> None:
    lunch = QuietHours(starts=time(12, 0), ends=time(13, 30))
    assert lunch.earliest_send_time(_utc("2026-01-13T12:10")) == _utc("2026-01-13T13:30")
    assert lunch.earliest_send_time(_utc("2026-01-13T13:30")) == _utc("2026-01-13T13:30")


def test_equal_start_and_end_mean_no_quiet_hours() -> None:
    always = QuietHours(starts=time(8, 0), ends=time(8, 0))
    assert always.earliest_send_time(_utc("2026-01-13T02:00")) == _utc("2026-01-13T02:00")


def test_a_time_without_a_zone_is_refused_naming_it() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        earliest_sms_send_time(datetime(2026, 1, 13, 22, 0))
    assert caught.value.field == "due"


def test_a_window_given_with_a_zone_is_refused() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        QuietHours(starts=time(21, 0, tzinfo=UTC))
    assert caught.value.field == "starts"

"""Reminders: 7 and 2 days before at 10:00 UK time by default, per exam family when set, an
extra one the day before for a patient at high risk of not attending, none already past."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.vocabulary import ExamFamily
from notifications.errors import InvalidFieldError
from notifications.events import MessageEvent
from notifications.reminders import (
    ReminderPolicy,
    reminder_policy_from_setting,
    reminder_schedule,
)

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 7, 14, 8, 30, tzinfo=UTC)  # Tuesday 9:30am BST
LONG_AGO = START - timedelta(days=30)


def _local(reminder) -> datetime:
    return reminder.due_at.astimezone(LONDON)


def test_by_default_reminders_go_7_and_2_days_before_at_10am_uk_time() -> None:
    reminders = reminder_schedule(START, ExamFamily.MR_MSK, LONG_AGO)
    assert [(r.event, r.days_before) for r in reminders] == [
        (MessageEvent.REMINDER, 7), (MessageEvent.REMINDER, 2)]
    assert [_local(r) for r in reminders] == [
        datetime(2026, 7, 7, 10, 0, tzinfo=LONDON), datetime(2026, 7, 12, 10, 0, tzinfo=LONDON)]
    assert all(r.due_at.tzinfo is UTC for r in reminders)


def test_a_reminder_already_past_at_booking_is_left_out() -> None:
    booked = START - timedelta(days=4)
    assert [r.days_before for r in reminder_schedule(START, ExamFamily.MR_MSK, booked)] == [2]


def test_a_booking_for_tomorrow_gets_no_reminder() -> None:
    assert reminder_schedule(START, ExamFamily.MR_MSK, START - timedelta(hours=20)) == ()


def test_a_family_can_have_its_own_days() -> None:
    policy = ReminderPolicy(days_by_family={ExamFamily.CT_CONTRAST: (10, 3)})
    assert [r.days_before for r in reminder_schedule(
        START, ExamFamily.CT_CONTRAST, LONG_AGO, policy)] == [10, 3]
    assert [r.days_before for r in reminder_schedule(
        START, ExamFamily.CT_PLAIN, LONG_AGO, policy)] == [7, 2]


def test_a_high_risk_patient_gets_an_extra_reminder_the_day_before() -> None:
    reminders = reminder_schedule(START, ExamFamily.MR_MSK, LONG_AGO, dna_probability=0.25)
    assert [(r.event, r.days_before) for r in reminders] == [
        (MessageEvent.REMINDER, 7), (MessageEvent.REMINDER, 2),
        (MessageEvent.HIGH_RISK_REMINDER, 1)]


def test_a_low_or_unknown_risk_gets_no_extra_reminder() -> None:
    for probability in (None, 0.02, 0.0999):
        reminders = reminder_schedule(START, ExamFamily.MR_MSK, LONG_AGO,
                                      dna_probability=probability)
        assert MessageEvent.HIGH_RISK_REMINDER not in {r.event for r in reminders}


def test_the_high_risk_reminder_replaces_a_regular_one_on_the_same_day() -> None:
    policy = ReminderPolicy(default_days=(7, 1))
    reminders = reminder_schedule(START, ExamFamily.MR_MSK, LONG_AGO, policy, 0.5)
    assert [(r.event, r.days_before) for r in reminders] == [
        (MessageEvent.REMINDER, 7), (MessageEvent.HIGH_RISK_REMINDER, 1)]


def test_keys_tell_the_reminders_apart_for_the_outbox() -> None:
    reminders = reminder_schedule(START, ExamFamily.MR_MSK, LONG_AGO, dna_probability=0.5)
    assert [r.key for r in reminders] == ["reminder-7d", "reminder-2d", "high_risk_reminder-1d"]


def test_a_reminder_across_the_october_change_is_still_at_10am_uk_time() -> None:
    start = datetime(2026, 10, 27, 9, 0, tzinfo=UTC)  # Tuesday 9am GMT, clocks went back Sunday
    reminders = reminder_schedule(start, ExamFamily.MR_MSK, start - timedelta(days=30))
    assert [r.due_at for r in reminders] == [
        datetime(2026, 10, 20, 9, 0, tzinfo=UTC),   # 10am BST
        datetime(2026, 10, 25, 10, 0, tzinfo=UTC)]  # 10am GMT, the day of the change


def test_a_reminder_across_the_march_change_is_still_at_10am_uk_time() -> None:
    start = datetime(2026, 3, 31, 8, 0, tzinfo=UTC)  # Tuesday 9am BST
    reminders = reminder_schedule(start, ExamFamily.MR_MSK, start - timedelta(days=30))
    assert [r.due_at for r in reminders] == [
        datetime(2026, 3, 24, 10, 0, tzinfo=UTC),  # 10am GMT
        datetime(2026, 3, 29, 9, 0, tzinfo=UTC)]   # 10am BST, the day of the change


def test_a_setting_gives_default_and_family_days() -> None:
    policy = reminder_policy_from_setting("5,1; ct_contrast=10,2 ;MR_PAEDIATRIC=7,3,1")
    assert policy.default_days == (5, 1)
    assert policy.days_for(ExamFamily.CT_CONTRAST) == (10, 2)
    assert policy.days_for(ExamFamily.MR_PAEDIATRIC) == (7, 3, 1)
    assert policy.days_for(ExamFamily.XR_PLAIN) == (5, 1)


@pytest.mark.parametrize(("setting", "problem"), [
    ("7,two", "whole numbers"),
    ("BRAIN=7,2", "'BRAIN' is not an exam family"),
    ("7,7", "repeats a day"),
    ("0,2", "0 is not a number of days"),
    ("90", "90 is not a number of days"),
    ("MR_MSK=", "gives no days"),
])
def test_a_bad_setting_is_refused_naming_it(setting: str, problem: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        reminder_policy_from_setting(setting, "CDIP_REMINDER_DAYS")
    assert caught.value.field == "CDIP_REMINDER_DAYS"
    assert problem in caught.value.problem


@pytest.mark.parametrize(("field", "kwargs"), [
    ("start", {"start": datetime(2026, 7, 14, 9, 30)}),
    ("booked_at", {"booked_at": datetime(2026, 7, 1, 9, 30)}),
])
def test_times_without_a_zone_are_refused(field: str, kwargs: dict) -> None:
    values = {"start": START, "family": ExamFamily.MR_MSK, "booked_at": LONG_AGO, **kwargs}
    with pytest.raises(InvalidFieldError) as caught:
        reminder_schedule(**values)
    assert caught.value.field == field


def test_a_threshold_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        ReminderPolicy(high_risk_threshold=0)
    assert caught.value.field == "high_risk_threshold"

"""When reminders fall due for an appointment: by default 7 and 2 days before (configurable per
exam family), at a set UK local time, plus one extra, the day before, for patients the DNA
model scores at high risk of not attending. Reminders already past at booking are left out.
Quiet hours for text messages are applied when sending (`quiet_hours`), not here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from domain.vocabulary import ExamFamily
from notifications.errors import InvalidFieldError, require_aware
from notifications.events import MessageEvent
from notifications.wording import LONDON

DEFAULT_DAYS_BEFORE = (7, 2)
MAX_DAYS_BEFORE = 60


@dataclass(frozen=True)
class ScheduledReminder:
    event: MessageEvent
    days_before: int
    due_at: datetime
    """UTC."""

    @property
    def key(self) -> str:
        """Tells this reminder from the appointment's others: part of the outbox's dedupe key
        (appointment, key, channel), e.g. 'reminder-7d'."""
        return f"{self.event.value}-{self.days_before}d"


@dataclass(frozen=True)
class ReminderPolicy:
    """Which days before an appointment reminders go, per exam family."""

    default_days: tuple[int, ...] = DEFAULT_DAYS_BEFORE
    days_by_family: Mapping[ExamFamily, tuple[int, ...]] = field(default_factory=dict)
    send_at: time = time(10, 0)
    """UK local time of day at which a reminder falls due."""
    high_risk_days_before: int = 1
    high_risk_threshold: float = 0.10
    """A DNA probability at or above this gets the extra reminder (imaging's base rate is
    2-4 %, so 0.10 is roughly the riskiest tenth)."""

    def __post_init__(self) -> None:
        _check_days("default_days", self.default_days)
        for family, days in self.days_by_family.items():
            _check_days(f"days_by_family[{family}]", days)
        _check_days("high_risk_days_before", (self.high_risk_days_before,))
        if not 0.0 < self.high_risk_threshold <= 1.0:
            raise InvalidFieldError("high_risk_threshold", "must be a probability above 0")

    def days_for(self, family: ExamFamily) -> tuple[int, ...]:
        return self.days_by_family.get(family, self.default_days)

    def is_high_risk(self, dna_probability: float | None) -> bool:
        return dna_probability is not None and dna_probability >= self.high_risk_threshold


def reminder_schedule(start: datetime, family: ExamFamily, booked_at: datetime,
                      policy: ReminderPolicy | None = None,
                      dna_probability: float | None = None) -> tuple[ScheduledReminder, ...]:
    """The reminders of an appointment starting at `start`, booked (or last moved) at
    `booked_at`, soonest due first (default policy: 7 and 2 days before). A high-risk
    patient's extra reminder replaces a regular one on the same day rather than adding a
    second message."""
    policy = policy if policy is not None else ReminderPolicy()
    require_aware(start, "start")
    require_aware(booked_at, "booked_at")
    days = {d: MessageEvent.REMINDER for d in policy.days_for(family)}
    if policy.is_high_risk(dna_probability):
        days[policy.high_risk_days_before] = MessageEvent.HIGH_RISK_REMINDER
    reminders = []
    for days_before, event in days.items():
        due = _due_at(start, days_before, policy.send_at)
        if booked_at < due < start:
            reminders.append(ScheduledReminder(event, days_before, due))
    return tuple(sorted(reminders, key=lambda reminder: reminder.due_at))


def reminder_policy_from_setting(text: str, field_name: str = "reminder_days"
                                 ) -> ReminderPolicy:
    """A policy from a setting such as '7,2; CT_CONTRAST=10,2; MR_PAEDIATRIC=7,3,1': the
    first bare list is the default, FAMILY=list overrides one family. Errors name the
    setting and the part that is wrong."""
    default: tuple[int, ...] = DEFAULT_DAYS_BEFORE
    by_family: dict[ExamFamily, tuple[int, ...]] = {}
    for part in (piece.strip() for piece in text.split(";")):
        if not part:
            continue
        name, _, days_text = part.rpartition("=")
        days = _days_list(days_text, field_name, part)
        if not name:
            default = days
            continue
        try:
            family = ExamFamily(name.strip().upper())
        except ValueError:
            raise InvalidFieldError(field_name, f"'{name.strip()}' is not an exam family "
                                    f"({', '.join(f.value for f in ExamFamily)})") from None
        by_family[family] = days
    try:
        return ReminderPolicy(default_days=default, days_by_family=by_family)
    except InvalidFieldError as error:
        raise InvalidFieldError(field_name, error.problem) from error


def _due_at(start: datetime, days_before: int, send_at: time) -> datetime:
    day = start.astimezone(LONDON).date() - timedelta(days=days_before)
    return datetime.combine(day, send_at, tzinfo=LONDON).astimezone(UTC)


def _days_list(text: str, field_name: str, part: str) -> tuple[int, ...]:
    try:
        days = tuple(int(piece) for piece in text.split(",") if piece.strip())
    except ValueError:
        raise InvalidFieldError(field_name, f"'{part}': days must be whole numbers "
                                            "separated by commas") from None
    if not days:
        raise InvalidFieldError(field_name, f"'{part}' gives no days")
    _check_days(field_name, days)
    return days


def _check_days(field_name: str, days: tuple[int, ...]) -> None:
    if len(set(days)) != len(days):
        raise InvalidFieldError(field_name, f"{days} repeats a day")
    for day in days:
        if not 1 <= day <= MAX_DAYS_BEFORE:
            raise InvalidFieldError(field_name, f"{day} is not a number of days from 1 "
                                                f"to {MAX_DAYS_BEFORE}")

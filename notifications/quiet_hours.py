"""When a text message may go: never in the quiet hours (21:00 to 08:00 UK time by default).
A message that falls due in them waits until they end. Times go in and come out as aware
datetimes; the arithmetic is done on UK wall-clock time, so the clock changes in March and
October move the UTC instant of 08:00, not the local one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifications.errors import InvalidFieldError, require_aware
from notifications.wording import LONDON


@dataclass(frozen=True)
class QuietHours:
    """A daily window, in local time, in which no SMS is sent. `starts` after `ends` means
    the window spans midnight (the usual case); equal times mean no quiet hours at all."""

    starts: time = time(21, 0)
    ends: time = time(8, 0)
    zone: ZoneInfo = LONDON

    def __post_init__(self) -> None:
        for name in ("starts", "ends"):
            if getattr(self, name).tzinfo is not None:
                raise InvalidFieldError(name, "give a wall-clock time without a time zone")

    def is_quiet(self, moment: datetime) -> bool:
        """Whether `moment` falls inside the quiet hours."""
        local = require_aware(moment, "moment").astimezone(self.zone).time().replace(tzinfo=None)
        if self.starts == self.ends:
            return False
        if self.starts > self.ends:
            return local >= self.starts or local < self.ends
        return self.starts <= local < self.ends

    def earliest_send_time(self, due: datetime) -> datetime:
        """`due` itself when it is outside the quiet hours, else the moment they end (in UTC)."""
        due = require_aware(due, "due")
        if not self.is_quiet(due):
            return due.astimezone(UTC)
        local_day = due.astimezone(self.zone).date()
        local_now = due.astimezone(self.zone).time().replace(tzinfo=None)
        if self.starts > self.ends and local_now >= self.starts:
            local_day += timedelta(days=1)
        return _wall_clock(local_day, self.ends, self.zone)


DEFAULT_QUIET_HOURS = QuietHours()


def earliest_sms_send_time(due: datetime, quiet: QuietHours = DEFAULT_QUIET_HOURS) -> datetime:
    """The earliest moment (UTC) at or after `due` at which a text message may be sent."""
    return quiet.earliest_send_time(due)


def _wall_clock(day, at: time, zone: ZoneInfo) -> datetime:
    """The instant the clocks in `zone` show `at` on `day`. A wall time skipped by the
    spring change is read after the change (01:30 on the March day is 02:30 BST)."""
    naive = datetime.combine(day, at)
    instant = naive.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != naive:  # skipped by the change
        instant = (naive + timedelta(hours=1)).replace(tzinfo=zone).astimezone(UTC)
    return instant

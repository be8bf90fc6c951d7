"""UK time for reports: instants are stored in UTC; months, census dates and weeks are read
on the Europe/London calendar, so an event at 23:30 UTC on 31 March 2024 (00:30 BST on
1 April) falls in April, while durations are plain elapsed time across a clock change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from reporting.errors import ReportPeriodError

LONDON = "Europe/London"
NS_PER_DAY = 86_400 * 10**9
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class Month:
    """A calendar month on the UK calendar, with its bounds as UTC nanoseconds."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.fullmatch(text.strip())
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise ReportPeriodError(f"'{text}' is not a month as YYYY-MM")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def start_ns(self) -> int:
        return local_midnight_ns(self.first_day)

    @property
    def end_ns(self) -> int:
        return local_midnight_ns(self.next().first_day)


def local_midnight_ns(day: date) -> int:
    """The UTC instant (ns) of 00:00 UK time on `day`."""
    stamp = pd.Timestamp(day.isoformat()).tz_localize(LONDON)
    return int(stamp.tz_convert("UTC").as_unit("ns").value)


def local_days(ns: np.ndarray) -> np.ndarray:
    """UK calendar days (datetime64[D]) of UTC instants given as int64 ns."""
    stamps = pd.DatetimeIndex(ns.astype("datetime64[ns]")).tz_localize("UTC")
    return stamps.tz_convert(LONDON).tz_localize(None).to_numpy().astype("datetime64[D]")


def in_window(ns: np.ndarray, start: int, end: int) -> np.ndarray:
    return (ns >= start) & (ns < end)

"""The days of a synthetic history and what the calendar does to them: weekdays, English bank
holidays (from the `holidays` package), the winter, August and Christmas seasons, growth, and
which days each site is open. Days are integers counted from the history's first Monday."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np

from domain.network import Network
from domain.vocabulary import ExamFamily

ANNUAL_GROWTH = 0.04
"""Demand grows about 4 % a year (NHS imaging activity has grown 3-5 % a year)."""

BOOKING_HORIZON_DAYS = 420
"""Days past the end of the history that appointments may still be placed in (then dropped)."""

WINTER_AMPLITUDE = {ExamFamily.XR_PLAIN: 0.12, ExamFamily.CT_PLAIN: 0.06}
"""Peak-to-mean rise in mid-January (chest infections); other families get 0.02."""

AUGUST_FACTOR = 0.92
CHRISTMAS_FACTOR = 0.65  # 24 Dec - 1 Jan
PRE_CHRISTMAS_FACTOR = 0.88  # 18 - 23 Dec


@dataclass(frozen=True)
class HistoryCalendar:
    """Day-indexed facts for `days` days from `start` (a Monday), including the booking horizon."""

    start: date
    history_days: int
    dates: np.ndarray  # datetime64[D]
    weekday: np.ndarray  # 0 = Monday
    bank_holiday: np.ndarray  # bool
    day_of_year: np.ndarray
    month: np.ndarray
    day_of_month: np.ndarray

    @property
    def days(self) -> int:
        return len(self.dates)


def build_calendar(start: date, weeks: int) -> HistoryCalendar:
    """Calendar of the history plus the horizon in which its appointments may fall."""
    if start.weekday() != 0:
        raise ValueError(f"the history must start on a Monday; {start} is not one")
    total = weeks * 7 + BOOKING_HORIZON_DAYS
    dates = np.datetime64(start, "D") + np.arange(total)
    years = range(start.year, (start + timedelta(days=total)).year + 1)
    holiday_dates = np.array(sorted(holidays.country_holidays("GB", subdiv="ENG", years=years)),
                             dtype="datetime64[D]")
    month = dates.astype("datetime64[M]").astype(int) % 12 + 1
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    return HistoryCalendar(
        start=start, history_days=weeks * 7, dates=dates,
        weekday=(np.arange(total) + start.weekday()) % 7,
        bank_holiday=np.isin(dates, holiday_dates),
        day_of_year=(dates - dates.astype("datetime64[Y]")).astype(int) + 1,
        month=month, day_of_month=day_of_month,
    )


def seasonal_factor(calendar: HistoryCalendar, family: ExamFamily) -> np.ndarray:
    """Multiplier on a family's referrals for every day: winter peak, August and Christmas dips."""
    amplitude = WINTER_AMPLITUDE.get(family, 0.02)
    factor = 1 + amplitude * np.cos(2 * np.pi * (calendar.day_of_year - 15) / 365.25)
    factor = np.where(calendar.month == 8, factor * AUGUST_FACTOR, factor)
    december, january = calendar.month == 12, calendar.month == 1
    christmas = (december & (calendar.day_of_month >= 24)) | (
        january & (calendar.day_of_month == 1))
    before = december & (calendar.day_of_month >= 18) & (calendar.day_of_month < 24)
    factor = np.where(christmas, factor * CHRISTMAS_FACTOR, factor)
    return np.where(before, factor * PRE_CHRISTMAS_FACTOR, factor)


def growth_factor(calendar: HistoryCalendar) -> np.ndarray:
    return (1 + ANNUAL_GROWTH) ** (np.arange(calendar.days) / 365.25)


@dataclass(frozen=True)
class SiteDays:
    """Per site and day: the first day on or after it that the site can see a patient, for
    routine work (no bank holidays) and for urgent work (bank holidays allowed), and opening
    minutes per weekday."""

    next_routine_day: np.ndarray  # [sites, days]
    next_urgent_day: np.ndarray  # [sites, days]
    opens_minute: np.ndarray  # [sites, 7]
    closes_minute: np.ndarray  # [sites, 7]


def site_days(network: Network, calendar: HistoryCalendar) -> SiteDays:
    opens = np.full((len(network.sites), 7), -1)
    closes = np.full((len(network.sites), 7), -1)
    for s, site in enumerate(network.sites):
        for weekday in range(7):
            hours = site.hours_on(weekday)
            if hours.is_open:
                opens[s, weekday] = hours.opens.hour * 60 + hours.opens.minute
                closes[s, weekday] = hours.closes.hour * 60 + hours.closes.minute
    open_day = (opens >= 0)[:, calendar.weekday]
    return SiteDays(
        next_routine_day=_next_true(open_day & ~calendar.bank_holiday[None, :]),
        next_urgent_day=_next_true(open_day),
        opens_minute=opens, closes_minute=closes,
    )


def _next_true(allowed: np.ndarray) -> np.ndarray:
    """For each row and column, the first column at or after it where `allowed` holds (the last
    column + 1 if none: such days fall outside the horizon and are dropped)."""
    columns = allowed.shape[1]
    index = np.where(allowed, np.arange(columns)[None, :], columns)
    return np.minimum.accumulate(index[:, ::-1], axis=1)[:, ::-1]

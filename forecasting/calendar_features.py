"""What the calendar does to a week's demand in England: bank holidays, Christmas, Easter and the
number of working days. Requests follow GP and clinic opening, so a short week means fewer."""

from __future__ import annotations

from datetime import date
from functools import cache
from types import MappingProxyType

import holidays
import numpy as np
import pandas as pd

CALENDAR_COLUMNS = ("working_days", "bank_holidays", "christmas_days", "pre_christmas_days",
                    "easter", "day_of_year", "season_sin1", "season_cos1", "season_sin2",
                    "season_cos2")
MONTH_COLUMNS = tuple(f"month_{m:02d}" for m in range(1, 13))


@cache
def _bank_holidays(first_year: int, last_year: int) -> MappingProxyType:
    """Bank holidays in England by date, with their names."""
    years = range(first_year, last_year + 1)
    return MappingProxyType(dict(holidays.country_holidays("GB", subdiv="ENG", years=years)))


def calendar_features(weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per week (Monday dates): what the calendar does to it.

    `christmas_days` counts the week's days in the 24 December to 1 January shutdown and
    `pre_christmas_days` those in 18 to 23 December; `easter` marks the weeks holding Good
    Friday or Easter Monday. `day_of_year` (of the Thursday) and the sine/cosine pairs place the
    week in the year; `month_01`..`month_12` are the shares of its seven days in each month, so
    a month-long dip (August) can be fitted without a 52-week dummy.
    """
    mondays = pd.DatetimeIndex(weeks).normalize()
    bank = _bank_holidays(int(mondays.year.min()) - 1, int(mondays.year.max()) + 1)
    days = [[(monday + pd.Timedelta(days=d)).date() for d in range(7)] for monday in mondays]
    weekday_holidays = np.array([sum(day in bank for day in week[:5]) for week in days])
    easter = [any(bank.get(d, "") in ("Good Friday", "Easter Monday") for d in week)
              for week in days]
    months = np.zeros((len(days), 12))
    for row, week in enumerate(days):
        for day in week:
            months[row, day.month - 1] += 1 / 7
    thursday = (mondays + pd.Timedelta(days=3)).day_of_year.to_numpy()
    position = 2 * np.pi * thursday / 365.25
    frame = pd.DataFrame({
        "working_days": 5 - weekday_holidays,
        "bank_holidays": weekday_holidays,
        "christmas_days": [sum(_in_shutdown(d) for d in week) for week in days],
        "pre_christmas_days": [sum(d.month == 12 and 18 <= d.day <= 23 for d in week)
                               for week in days],
        "easter": np.array(easter, dtype=float),
        "day_of_year": thursday,
        "season_sin1": np.sin(position), "season_cos1": np.cos(position),
        "season_sin2": np.sin(2 * position), "season_cos2": np.cos(2 * position),
    }, index=mondays)
    return frame.join(pd.DataFrame(months, index=mondays, columns=list(MONTH_COLUMNS)))


def _in_shutdown(day: date) -> bool:
    return (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1)


def future_weeks(last_week: pd.Timestamp, horizon: int) -> pd.DatetimeIndex:
    """The `horizon` Mondays after `last_week`."""
    return pd.date_range(last_week + pd.Timedelta(days=7), periods=horizon, freq="7D")

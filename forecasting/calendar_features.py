"""What the calendar does to a week's demand in England: bank holidays, Christmas, Easter and the
number of working days. Requests follow GP and clinic opening, so a short week means fewer."""

from __future__ import annotations

from functools import cache
from types import MappingProxyType

import holidays
import numpy as np
import pandas as pd

CALENDAR_COLUMNS = ("working_days", "bank_holidays", "christmas", "new_year", "easter",
                    "season_sin1", "season_cos1", "season_sin2", "season_cos2")


@cache
def _bank_holidays(first_year: int, last_year: int) -> MappingProxyType:
    """Bank holidays in England by date, with their names."""
    years = range(first_year, last_year + 1)
    return MappingProxyType(dict(holidays.country_holidays("GB", subdiv="ENG", years=years)))


def calendar_features(weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per week (Monday dates): working days, bank holidays and seasonal position.

    `christmas` marks the week holding 25 December, `new_year` the week holding 1 January,
    `easter` the weeks holding Good Friday or Easter Monday; the sine/cosine pairs place the week
    in the year so a model can learn a smooth annual cycle without a 52-week dummy.
    """
    mondays = pd.DatetimeIndex(weeks).normalize()
    bank = _bank_holidays(int(mondays.year.min()) - 1, int(mondays.year.max()) + 1)
    days = [[(monday + pd.Timedelta(days=d)).date() for d in range(7)] for monday in mondays]
    weekday_holidays = np.array([sum(day in bank for day in week[:5]) for week in days])
    names = [[bank.get(day, "") for day in week] for week in days]
    christmas = [any(d.month == 12 and d.day == 25 for d in week) for week in days]
    new_year = [any(d.month == 1 and d.day == 1 for d in week) for week in days]
    easter = [any(n in ("Good Friday", "Easter Monday") for n in week) for week in names]
    position = 2 * np.pi * (mondays.day_of_year.to_numpy() + 3) / 365.25
    return pd.DataFrame({
        "working_days": 5 - weekday_holidays,
        "bank_holidays": weekday_holidays,
        "christmas": np.array(christmas, dtype=float),
        "new_year": np.array(new_year, dtype=float),
        "easter": np.array(easter, dtype=float),
        "season_sin1": np.sin(position), "season_cos1": np.cos(position),
        "season_sin2": np.sin(2 * position), "season_cos2": np.cos(2 * position),
    }, index=mondays)


def future_weeks(last_week: pd.Timestamp, horizon: int) -> pd.DatetimeIndex:
    """The `horizon` Mondays after `last_week`."""
    return pd.date_range(last_week + pd.Timedelta(days=7), periods=horizon, freq="7D")

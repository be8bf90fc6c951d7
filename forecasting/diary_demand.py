"""The diary builder's demand for a week, from what the service knows: the forecast of new
requests (each area's split by its own priority × age-band mix) plus the appointable requests
already waiting, each counted in the week its breach date requires. Rows are the builder's
`optimiser.problem.DemandRow`, field for field; forecasting imports nothing of the optimiser,
and the waiting list comes in as plain records (only the booking service reads the database)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from domain.vocabulary import CHILD_UNDER_YEARS, AgeBand, ExamFamily, Priority
from forecasting.demand import FORECAST_COLUMNS, DemandForecast

BREACH_DAYS = {Priority.TWO_WEEK_WAIT: 14}
"""Days from request to test before a breach: two weeks for two-week-wait, else six weeks."""
STANDARD_BREACH_DAYS = 42
MIX_PRIOR_REQUESTS = 20.0
"""An area's own priority × age-band mix counts as much as this many requests; the rest is
the family's network-wide mix, so an area with a few requests does not get 0 % and 100 %."""
MIX_COLUMNS = ("exam_family", "area_id", "priority", "age_band", "share")


class DiaryDemandError(ValueError):
    """Input diary demand cannot be made from; the message names the field."""


@dataclass(frozen=True)
class WeeklyDemand:
    """Expected requests in one week for one family from one area at one priority and age
    band: the row of the diary builder's demand (optimiser.problem.DemandRow)."""

    family: ExamFamily
    area_id: str
    priority: Priority
    expected_count: float
    age_band: AgeBand = AgeBand.ADULT


@dataclass(frozen=True)
class WaitingRequest:
    """An appointable request not yet seen, as the booking service knows it."""

    request_id: str
    family: ExamFamily
    area_id: str
    priority: Priority
    received: date
    age_band: AgeBand
    due_date: date | None = None
    """When a planned (surveillance) test falls due; None for every other priority."""

    @property
    def breach_date(self) -> date:
        return self.received + timedelta(days=BREACH_DAYS.get(self.priority,
                                                              STANDARD_BREACH_DAYS))

    @property
    def needed_by(self) -> date:
        """The day the test must happen by: a planned test's due date, else the breach date."""
        if self.priority is Priority.PLANNED and self.due_date is not None:
            return self.due_date
        return self.breach_date


def week_needed(request: WaitingRequest, planning_from: date) -> date:
    """Monday of the week a waiting request is planned in: the week its test is needed by,
    or the first week planned when that has already passed."""
    needed = request.needed_by
    return max(planning_from, needed - timedelta(days=needed.weekday()))


def age_bands(requests: pd.DataFrame, patients: pd.DataFrame) -> pd.Series:
    """Each request's age band, from the patient's birth year and the year it was received."""
    birth = requests["patient_id"].map(patients.set_index("patient_id")["birth_year"])
    age = pd.to_datetime(requests["received_date"]).dt.year - birth
    return pd.Series(np.where(age < CHILD_UNDER_YEARS, AgeBand.CHILD.value, AgeBand.ADULT.value),
                     index=requests.index, name="age_band")


def demand_mix(requests: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Share of each priority × age band within each family × area (MIX_COLUMNS), shrunk
    towards the family's network-wide mix."""
    frame = requests.assign(age_band=age_bands(requests, patients), requests=1)
    return demand_mix_of_counts(frame)


def demand_mix_of_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """`demand_mix` from counted requests (exam_family, area_id, priority, age_band, requests),
    as a service keeps them: a history summed by day rather than one row per request."""
    kinds = pd.MultiIndex.from_product([[p.value for p in Priority], [b.value for b in AgeBand]],
                                       names=["priority", "age_band"])
    counts = (counts.groupby(["exam_family", "area_id", "priority", "age_band"])["requests"]
              .sum().unstack(["priority", "age_band"], fill_value=0)
              .reindex(columns=kinds, fill_value=0))
    family = counts.groupby(level="exam_family").sum()
    family_share = family.div(family.sum(axis=1), axis=0)
    prior = family_share.reindex(counts.index.get_level_values("exam_family")).to_numpy()
    shrunk = (counts.to_numpy() + MIX_PRIOR_REQUESTS * prior) / (
        counts.sum(axis=1).to_numpy()[:, None] + MIX_PRIOR_REQUESTS)
    mix = pd.DataFrame(shrunk, index=counts.index, columns=kinds)
    return mix.stack(["priority", "age_band"]).rename("share").reset_index()


def diary_demand(forecast: DemandForecast, mix: pd.DataFrame, week: date,
                 waiting: Iterable[WaitingRequest] = (), planning_from: date | None = None,
                 upper: Mapping[Priority, str] | None = None) -> tuple[WeeklyDemand, ...]:
    """The week's demand rows: new requests forecast for it, split by the mix, plus the
    waiting requests `week_needed` puts in it (`planning_from`, the first week planned,
    defaults to this one). `upper` plans the given priorities to a forecast column other
    than the mean (e.g. {Priority.URGENT: "hi80"}), so that capacity for them holds when
    demand comes in high."""
    columns = dict.fromkeys(Priority, "forecast") | dict(upper or {})
    bad = sorted({c for c in columns.values() if c not in FORECAST_COLUMNS[3:]})
    if bad:
        raise DiaryDemandError(f"upper: '{bad[0]}' is not a forecast column "
                               f"({', '.join(FORECAST_COLUMNS[3:-1])})")
    week_rows = forecast.table[forecast.table["week_start"] == week]
    if week_rows.empty:
        raise KeyError(f"the forecast has no week starting {week.isoformat()}")
    rows = week_rows.merge(mix, on=["exam_family", "area_id"], how="inner")
    rows = rows[rows["share"] > 0]
    level = pd.Series(0.0, index=rows.index)
    for column in set(columns.values()):
        chosen = rows["priority"].isin([p.value for p, c in columns.items() if c == column])
        level[chosen] = rows.loc[chosen, column]
    totals: dict[tuple, float] = defaultdict(float)
    for family, area, priority, band, count in zip(
            rows["exam_family"], rows["area_id"], rows["priority"], rows["age_band"],
            level * rows["share"], strict=True):
        totals[(ExamFamily(family), area, Priority(priority), AgeBand(band))] += float(count)
    first = planning_from or week
    for request in waiting:
        if week_needed(request, first) == week:
            totals[(request.family, request.area_id, request.priority, request.age_band)] += 1
    return tuple(WeeklyDemand(family, area, priority, count, band)
                 for (family, area, priority, band), count in totals.items())

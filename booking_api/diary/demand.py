"""The diary builder's demand from what the service knows: a forecast fitted on its history
(the weeks a trust export brought in, then the service's own requests) turned into diary rows
by `forecasting.diary_demand`, plus the appointable requests already waiting, each in the week
its breach date requires. `read_service_history` reads the database once; `planned_demand`
fits the forecast on what it read, outside any transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from booking_api.diary.history import COUNT_COLUMNS, imported_weekly_counts
from booking_api.network.models import ExamType
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from domain.lifecycle import RequestState
from domain.vocabulary import AgeBand
from forecasting.demand import DEFAULT_MODEL, MAX_HORIZON, forecast_weekly_demand
from forecasting.diary_demand import WaitingRequest, demand_mix_of_counts, diary_demand
from optimiser.problem import DemandRow


class DemandSourceError(ValueError):
    """The service cannot plan from what it knows; the message says what to do."""


@dataclass(frozen=True)
class ServiceHistory:
    """What the service knows: weekly counts, and the appointable requests waiting now."""

    counts: pd.DataFrame  # COUNT_COLUMNS + requests
    waiting: tuple[WaitingRequest, ...]
    imported_weeks: int
    own_weeks: int
    waiting_without_area: int


@dataclass(frozen=True)
class PlannedDemand:
    """Demand for the weeks planned: `rows(monday)` gives the builder's rows for one week."""

    rows: Callable[[date], tuple[DemandRow, ...]]
    history: ServiceHistory
    model: str
    last_history_week: date


def read_service_history(session: Session, zone: ZoneInfo, today: date) -> ServiceHistory:
    """Imported weeks, then the service's own requests in whole weeks after them (up to the
    week before `today`'s), and the appointable requests waiting."""
    imported = imported_weekly_counts(session)
    this_monday = today - timedelta(days=today.weekday())
    after = (max(imported["week_start"]) + timedelta(days=7) if not imported.empty
             else date.min)
    own = _own_weekly_counts(session, zone, after, this_monday)
    frames = [frame for frame in (imported, own) if not frame.empty]
    counts = pd.concat(frames, ignore_index=True) if frames else imported
    waiting, without_area = _waiting(session, zone, today)
    return ServiceHistory(counts, waiting, imported["week_start"].nunique(),
                          own["week_start"].nunique(), without_area)


def planned_demand(history: ServiceHistory, first_week: date, weeks: int, *,
                   model: str = DEFAULT_MODEL, seed: int = 0) -> PlannedDemand:
    """Fit the forecast on the history and give each planned week's rows: new requests by
    the forecast × the history's priority and age-band mix, plus the waiting list."""
    if history.counts.empty:
        raise DemandSourceError(
            "the service has no demand history to forecast from: import a trust's export with "
            "`cdip history import FOLDER` (docs/history-schema.md), or plan with "
            "--demand stand-in")
    last = max(history.counts["week_start"])
    horizon = (first_week + timedelta(weeks=weeks - 1) - last).days // 7
    if first_week <= last:
        raise DemandSourceError(f"--week: {first_week} is inside the history (its last week "
                                f"starts {last}); plan weeks after it")
    if horizon > MAX_HORIZON:
        raise DemandSourceError(
            f"the history ends with the week of {last}: the last week planned is {horizon} "
            f"weeks after it, and forecasts reach {MAX_HORIZON}; import a recent export")
    forecast = forecast_weekly_demand(
        history.counts.groupby(["week_start", "exam_family", "area_id"], as_index=False)
        ["requests"].sum(), horizon, model, seed)
    mix = demand_mix_of_counts(history.counts)

    def rows(monday: date) -> tuple[DemandRow, ...]:
        return tuple(DemandRow(r.family, r.area_id, r.priority, r.expected_count, r.age_band)
                     for r in diary_demand(forecast, mix, monday, history.waiting, first_week))

    return PlannedDemand(rows, history, model, last)


def _own_weekly_counts(session: Session, zone: ZoneInfo, after: date,
                       before: date) -> pd.DataFrame:
    """The service's requests counted per whole week from `after` to before `before` (those
    vetting rejected never needed a slot)."""
    start = datetime.combine(after if after > date.min else date(1900, 1, 1),
                             datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(before, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    rows = session.execute(
        select(Request.received_at, ExamType.family, Patient.area_id, Request.priority,
               Patient.date_of_birth)
        .join(ExamType, col(ExamType.code) == Request.exam_code)
        .join(Patient, col(Patient.id) == Request.patient_id)
        .where(col(Request.received_at) >= start, col(Request.received_at) < end,
               Request.state != RequestState.REJECTED,
               col(Patient.area_id).is_not(None))).all()
    if not rows:
        return pd.DataFrame(columns=[*COUNT_COLUMNS, "requests"])
    records = []
    for received_at, family, area_id, priority, born in rows:
        day = _local_date(received_at, zone)
        records.append((day - timedelta(days=day.weekday()), family.value, area_id,
                        priority.value, AgeBand.of_age(day.year - born.year).value))
    frame = pd.DataFrame(records, columns=COUNT_COLUMNS)
    return frame.groupby(COUNT_COLUMNS).size().rename("requests").reset_index()


def _waiting(session: Session, zone: ZoneInfo,
             today: date) -> tuple[tuple[WaitingRequest, ...], int]:
    """Appointable requests (none has an appointment yet); those whose patient has no demand
    area cannot be placed in the plan and are only counted."""
    rows = session.execute(
        select(Request.id, ExamType.family, Patient.area_id, Request.priority,
               Request.received_at, Patient.date_of_birth, Request.due_date)
        .join(ExamType, col(ExamType.code) == Request.exam_code)
        .join(Patient, col(Patient.id) == Request.patient_id)
        .where(Request.state == RequestState.APPOINTABLE)).all()
    waiting, without_area = [], 0
    for request_id, family, area_id, priority, received_at, born, due in rows:
        if area_id is None:
            without_area += 1
            continue
        years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        waiting.append(WaitingRequest(str(request_id), family, area_id, priority,
                                      _local_date(received_at, zone), AgeBand.of_age(years),
                                      due))
    return tuple(waiting), without_area


def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(zone).date()

"""Demand against capacity for the coming weeks, per modality and area (integrated care
system), as seen at an instant `as_of`.

- Weeks are UK calendar weeks starting on the first Monday on or after `as_of`'s UK date.
- Capacity: session minutes of the diary sessions starting in each week, by the room's
  modality and the ICS of the site's trust; `booked_minutes` are those already taken by
  appointments booked before `as_of` and not cancelled by then.
- Demand: requests expected in the week, by modality and the ICS of the patient's area, from
  the `forecast` frame when given; otherwise the mean weekly requests received in the
  `baseline_weeks` before `as_of` (a flat naive forecast). Demand minutes use each exam
  family's mean duration weighted by the catalogue's relative frequencies.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from domain.lifecycle import AppointmentState
from reporting.labels import ratio
from reporting.london import local_days, local_midnight_ns
from reporting.record import FAMILIES, MODALITIES, Record, appointment_code
from reporting.utilisation import NS_PER_MINUTE

NS_PER_WEEK = 7 * 86_400 * 10**9
_MODALITY_NAMES = np.array([m.value for m in MODALITIES], dtype=object)
_FAMILY_CODES = {family.value: code for code, family in enumerate(FAMILIES)}


def demand_and_capacity(record: Record, as_of: int, weeks: int = 6,
                        baseline_weeks: int = 8) -> pd.DataFrame:
    """Columns week_start, modality, ics, demand_requests, demand_minutes, capacity_minutes,
    booked_minutes, free_minutes, demand_share_of_capacity, demand_share_of_free."""
    first = _next_monday(local_days(np.array([as_of]))[0].astype(object))
    starts = [first + timedelta(weeks=w) for w in range(weeks)]
    capacity = _capacity(record, starts, as_of)
    demand = _demand(record, starts, as_of, baseline_weeks)
    for part in (capacity, demand):
        part["week_start"] = part.week_start.astype("datetime64[s]")
    frame = capacity.merge(demand, on=["week_start", "modality", "ics"], how="outer").fillna(0)
    frame["free_minutes"] = frame.capacity_minutes - frame.booked_minutes
    frame["demand_share_of_capacity"] = ratio(frame.demand_minutes, frame.capacity_minutes)
    frame["demand_share_of_free"] = ratio(frame.demand_minutes, frame.free_minutes)
    columns = ["week_start", "modality", "ics", "demand_requests", "demand_minutes",
               "capacity_minutes", "booked_minutes", "free_minutes",
               "demand_share_of_capacity", "demand_share_of_free"]
    return frame.sort_values(["week_start", "modality", "ics"]).reset_index(drop=True)[columns]


def _next_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _week_bounds(starts: list[date]) -> np.ndarray:
    return np.array([local_midnight_ns(d) for d in [*starts, starts[-1] + timedelta(weeks=1)]])


def _capacity(record: Record, starts: list[date], as_of: int) -> pd.DataFrame:
    s, a, t = record.sessions, record.appointments, record.tables
    bounds = _week_bounds(starts)
    week = np.searchsorted(bounds, s.start, side="right") - 1
    inside = (week >= 0) & (week < len(starts))
    session_week = np.where(inside, week, -1)
    held = a.state == appointment_code(AppointmentState.HELD)
    live = ((a.session >= 0) & (a.booked < as_of) & ~held
            & ~((a.state == appointment_code(AppointmentState.CANCELLED)) & (a.cancelled < as_of)))
    live &= session_week[np.maximum(a.session, 0)] >= 0
    booked = np.bincount(a.session[live], weights=(a.end[live] - a.start[live]) / NS_PER_MINUTE,
                         minlength=len(s.start))
    rows = np.flatnonzero(inside)
    site = t.room_site[s.room[rows]]
    frame = pd.DataFrame({
        "week_start": np.array(starts, dtype="datetime64[D]")[week[rows]],
        "modality": _MODALITY_NAMES[t.room_modality[s.room[rows]]],
        "ics": t.ics_ids.to_numpy(dtype=object)[t.trust_ics[t.site_trust[site]]],
        "capacity_minutes": s.minutes[rows].astype(float),
        "booked_minutes": booked[rows],
    })
    return frame.groupby(["week_start", "modality", "ics"], as_index=False).sum()


def _demand(record: Record, starts: list[date], as_of: int, baseline_weeks: int) -> pd.DataFrame:
    t = record.tables
    family_minutes = _family_minutes(record)
    area_ics = t.ics_ids.to_numpy(dtype=object)[t.area_ics]
    modality_of_family = np.array([f.modality.value for f in FAMILIES], dtype=object)
    forecast = record.inputs.forecast
    if forecast is not None:
        f = forecast[forecast.week_start.isin(pd.to_datetime(starts))]
        family = f.exam_family.astype(str).map(_FAMILY_CODES).to_numpy()
        area = pd.Index(t.areas.area_id.astype(str)).get_indexer(f.area_id.astype(str))
        frame = pd.DataFrame({"week_start": f.week_start.to_numpy().astype("datetime64[D]"),
                              "family": family, "ics": area_ics[area],
                              "demand_requests": f.expected.to_numpy(dtype=float)})
    else:
        r = record.requests
        recent = (r.received < as_of) & (r.received >= as_of - baseline_weeks * NS_PER_WEEK)
        base = pd.DataFrame({"family": t.exam_family[r.exam[recent]],
                             "ics": area_ics[r.area[recent]]})
        mean = base.groupby(["family", "ics"]).size() / baseline_weeks
        frame = pd.concat([mean.rename("demand_requests").reset_index().assign(
            week_start=np.datetime64(day, "D")) for day in starts], ignore_index=True)
    family = frame.family.to_numpy(dtype=np.int64)
    frame["modality"] = modality_of_family[family]
    frame["demand_minutes"] = frame.demand_requests * family_minutes[family]
    return frame.groupby(["week_start", "modality", "ics"], as_index=False)[
        ["demand_requests", "demand_minutes"]].sum()


def _family_minutes(record: Record) -> np.ndarray:
    """Mean exam minutes per family, weighted by relative frequency."""
    t = record.tables
    weight = t.exams.relative_frequency.to_numpy(dtype=float)
    total = np.bincount(t.exam_family, weights=weight * t.exam_minutes, minlength=len(FAMILIES))
    weights = np.bincount(t.exam_family, weights=weight, minlength=len(FAMILIES))
    return ratio(total, weights)

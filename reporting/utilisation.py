"""Utilisation of diary sessions: booked minutes over session minutes, and attended minutes
over booked minutes, per session, per room and per modality (network and trust).

An appointment counts towards its session when it is booked, attended or a DNA (a DNA's slot
was booked and wasted); cancelled and held appointments do not count. Minutes are the
appointment's length (end - start). Sessions belong to the UK date on which they start.
Appointments that start in the window without a diary session are reported per room as
`unsessioned_minutes` rather than silently dropped."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from domain.lifecycle import AppointmentState
from reporting.labels import ratio, room_labels, tidy_by
from reporting.london import local_days
from reporting.record import Record, appointment_code

NS_PER_MINUTE = 60 * 10**9
COUNTED = (AppointmentState.BOOKED, AppointmentState.ATTENDED, AppointmentState.DNA)


def session_utilisation(record: Record, window: tuple[int, int]) -> pd.DataFrame:
    """One row per session starting in the window."""
    s, a = record.sessions, record.appointments
    chosen = np.flatnonzero((s.start >= window[0]) & (s.start < window[1]))
    position = np.full(len(s.start), -1, np.int64)
    position[chosen] = np.arange(len(chosen))
    counted = np.isin(a.state, [appointment_code(x) for x in COUNTED]) & (a.session >= 0)
    counted &= position[np.maximum(a.session, 0)] >= 0
    slot = position[a.session[counted]]
    minutes = (a.end[counted] - a.start[counted]) / NS_PER_MINUTE
    attended = a.state[counted] == appointment_code(AppointmentState.ATTENDED)
    booked = np.bincount(slot, weights=minutes, minlength=len(chosen))
    seen = np.bincount(slot, weights=np.where(attended, minutes, 0.0), minlength=len(chosen))
    frame = room_labels(record, s.room[chosen])
    frame.insert(0, "session_id", record.inputs.sessions.session_id.to_numpy()[chosen])
    frame["date"] = local_days(s.start[chosen])
    frame["session_minutes"] = s.minutes[chosen]
    frame["booked_minutes"] = booked
    frame["attended_minutes"] = seen
    frame["booked_share"] = ratio(booked, s.minutes[chosen])
    frame["attended_share"] = ratio(seen, booked)
    return frame


def room_utilisation(record: Record, window: tuple[int, int],
                     sessions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per room over the window, with the unsessioned minutes of its appointments."""
    sessions = session_utilisation(record, window) if sessions is None else sessions
    rooms = room_labels(record, np.arange(len(record.tables.rooms)))
    sums = _sum_minutes(sessions.groupby("room", sort=True, observed=True)).reset_index()
    rooms = rooms.merge(sums, on="room", how="left").merge(_unsessioned(record, window),
                                                           on="room", how="left")
    rooms = rooms.fillna({name: 0 for name in ("sessions", "session_minutes", "booked_minutes",
                                               "attended_minutes", "unsessioned_minutes")})
    used = (rooms.sessions > 0) | (rooms.unsessioned_minutes > 0)
    return _shares(rooms[used].reset_index(drop=True))


def modality_utilisation(sessions: pd.DataFrame,
                         dimensions: Sequence[str] = ("network", "ics", "trust", "site")
                         ) -> pd.DataFrame:
    """Per modality within each dimension (network-wide, per ICS, trust, site)."""
    parts = []
    for dimension in dimensions:
        grouped = _sum_minutes(sessions.groupby([dimension, "modality"], sort=True,
                                                observed=True))
        grouped = grouped.reset_index().rename(columns={dimension: "group"})
        grouped["group"] = grouped.group.astype(str)
        grouped["modality"] = grouped.modality.astype(str)
        grouped.insert(0, "by", dimension)
        parts.append(grouped)
    return _shares(pd.concat(parts, ignore_index=True))


def trust_utilisation(sessions: pd.DataFrame) -> pd.DataFrame:
    """All modalities together, per trust (for the variation between trusts)."""
    return _shares(tidy_by(sessions, ["trust"], _sum_minutes))


def _sum_minutes(grouped: pd.core.groupby.DataFrameGroupBy) -> pd.DataFrame:
    return grouped.agg(sessions=("session_minutes", "size"),
                       session_minutes=("session_minutes", "sum"),
                       booked_minutes=("booked_minutes", "sum"),
                       attended_minutes=("attended_minutes", "sum"))


def _shares(frame: pd.DataFrame) -> pd.DataFrame:
    frame["booked_share"] = ratio(frame.booked_minutes, frame.session_minutes)
    frame["attended_share"] = ratio(frame.attended_minutes, frame.booked_minutes)
    return frame


def _unsessioned(record: Record, window: tuple[int, int]) -> pd.DataFrame:
    a = record.appointments
    loose = ((a.session < 0) & (a.start >= window[0]) & (a.start < window[1])
             & np.isin(a.state, [appointment_code(x) for x in COUNTED]))
    minutes = np.bincount(a.room[loose], weights=(a.end[loose] - a.start[loose]) / NS_PER_MINUTE,
                          minlength=len(record.tables.rooms))
    names = list(record.tables.rooms.room_id.astype(str))
    return pd.DataFrame({"room": pd.Categorical(names, categories=names),
                         "unsessioned_minutes": minutes})

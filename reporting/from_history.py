"""Reporting inputs from a history folder (docs/history-schema.md), until the service's tables
are read directly. A history records less than the service does; docs/reports.md ("From a
history folder") lists every rule below and what stays unknown.

- Ids are row numbers; the history's appointment ids become accession numbers.
- Local wall-clock times become UTC (an hour that does not exist in March moves forward; an
  ambiguous October hour is read as BST).
- A request is received at 08:00 on its received date (earlier if its first appointment was
  booked earlier that day) and belongs to the trust of its first appointment's site, or of the
  nearest site with its modality when it has none.
- Events: received; appointable when its first appointment is booked (a history does not
  record vetting, so there is no justified event); appointed at each booking; attended or dna
  at the start; appointable again when an appointment is cancelled, or when a DNA is rebooked;
  cancelled (discharged) 28 days after a cancellation or DNA that nothing rebooks, when that
  falls within the history. No acquired or reported events: a history has no report times.
- Appointments: booked at 08:00 on the booking day (10 minutes before the start when booked
  the same day); end = start + the exam's duration; cancelled when the rebooking was made (the
  generator rebooks on the day of the cancellation), else the day before the start; a
  rebooking replaces the request's previous appointment; rooms are shared out in turn among
  the site's rooms of the modality in order of start each day.
- Sessions: every room, every day of the history, every period (morning, afternoon, evening)
  that fits the site's opening hours that day, 240 minutes each. An appointment belongs to its
  room's session of the period containing its start (a start in a break goes to the period
  before it).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from domain.history import History
from domain.network import Network
from domain.vocabulary import SessionPeriod
from reporting.history_details import read_details
from reporting.inputs import ReportInputs
from reporting.reference_frames import exam_frame, organisation_frames

LONDON = "Europe/London"
NS_PER_MINUTE = 60 * 10**9
DISCHARGE_AFTER = np.timedelta64(28, "D")
PERIODS = tuple(SessionPeriod)


def inputs_from_history(history: History, network: Network, exams: pd.DataFrame | None = None,
                        folder: Path | None = None) -> ReportInputs:
    """The inputs a history implies; `folder` may hold the optional identifier files
    (patient_identifiers.csv, request_details.csv) read by `history_details`."""
    exams = exam_frame() if exams is None else exams
    organisations = organisation_frames(network)
    end = _history_end(history)
    sessions, session_lookup = _sessions(network, history, end)
    appointments = _appointments(history, network, exams, session_lookup)
    requests = _requests(history, network, exams, appointments)
    events = _events(history, requests, appointments, end)
    patients = pd.DataFrame({
        "patient_id": np.arange(len(history.patients), dtype=np.int64),
        "nhs_number": pd.Series(pd.NA, index=range(len(history.patients)), dtype="str"),
        "nhs_number_status": pd.Series(pd.NA, index=range(len(history.patients)), dtype="str"),
        "birth_date": pd.Series(pd.NaT, index=range(len(history.patients)),
                                dtype="datetime64[s]"),
        "sex": pd.Categorical(history.patients.sex.to_numpy()),
        "ethnic_category": pd.Series(pd.NA, index=range(len(history.patients)), dtype="str"),
        "postcode": pd.Series(pd.NA, index=range(len(history.patients)), dtype="str"),
        "gp_practice_code": pd.Series(pd.NA, index=range(len(history.patients)), dtype="str"),
    })
    inputs = ReportInputs(requests=requests.drop(columns=["first_booked"]), patients=patients,
                          request_events=events, appointments=appointments.drop(
                              columns=["request_row", "successor_booked"]),
                          sessions=sessions, exams=exams, **organisations)
    return read_details(inputs, history, folder) if folder is not None else inputs


def local_to_utc(naive: np.ndarray) -> pd.Series:
    """Wall-clock datetimes (datetime64, UK local) as UTC instants."""
    index = pd.DatetimeIndex(np.asarray(naive, dtype="datetime64[ns]"))
    return pd.Series(index.tz_localize(LONDON, ambiguous=np.ones(len(index), bool),
                                       nonexistent="shift_forward").tz_convert("UTC"))


def _naive(series: pd.Series) -> np.ndarray:
    """UTC instants of a timezone-aware series as naive datetime64[ns] (NaT kept)."""
    return series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def _history_end(history: History) -> np.datetime64:
    """First day after the history (truth/meta.json when present, else the day after the
    latest date in the files)."""
    if history.truth is not None and "end" in history.truth.meta:
        return np.datetime64(history.truth.meta["end"], "D")
    latest = max(history.requests.received_date.max(), history.appointments.start.max())
    return np.datetime64(pd.Timestamp(latest).date() + timedelta(days=1), "D")


def _sessions(network: Network, history: History, end: np.datetime64
              ) -> tuple[pd.DataFrame, np.ndarray]:
    """Sessions frame, and a lookup [room, day, period] -> session id (-1 where none)."""
    start = np.datetime64(history.requests.received_date.min(), "D")
    days = np.arange(start, end, dtype="datetime64[D]")
    weekday = (days.astype(np.int64) - 4) % 7  # 1970-01-01 was a Thursday
    sites = network.site_by_id
    fits = np.zeros((len(network.rooms), 7, len(PERIODS)), bool)
    for r, room in enumerate(network.rooms):
        site = sites[room.site_id]
        for day in range(7):
            hours = site.hours_on(day)
            for p, period in enumerate(PERIODS):
                fits[r, day, p] = (hours.is_open and hours.opens <= period.start
                                   and hours.closes >= period.end)
    exists = fits[:, weekday, :]  # room x day x period
    lookup = np.where(exists, np.cumsum(exists.ravel()).reshape(exists.shape) - 1, -1)
    room, day, period = np.nonzero(exists)
    minute = np.array([p.start.hour * 60 + p.start.minute for p in PERIODS])[period]
    local_start = days[day].astype("datetime64[m]") + minute
    begin = local_to_utc(local_start)
    frame = pd.DataFrame({
        "session_id": lookup[room, day, period].astype(np.int64),
        "room_id": pd.Categorical.from_codes(room, [r.room_id for r in network.rooms]),
        "start_at": begin,
        "end_at": begin + pd.Timedelta(minutes=240),
        "minutes": np.full(len(room), 240, np.int64),
    })
    return frame, (lookup, start)


def _appointments(history: History, network: Network, exams: pd.DataFrame,
                  session_lookup: tuple[np.ndarray, np.datetime64]) -> pd.DataFrame:
    a = history.appointments
    request_row = pd.Index(history.requests.request_id).get_indexer(a.request_id)
    exam_row = pd.Index(exams.code).get_indexer(history.requests.exam_code.to_numpy()[request_row])
    start = a.start.to_numpy().astype("datetime64[m]")
    booked_day = a.booked_date.to_numpy().astype("datetime64[D]")
    same_day = booked_day == start.astype("datetime64[D]")
    booked = np.where(same_day, start - np.timedelta64(10, "m"),
                      booked_day.astype("datetime64[m]") + np.timedelta64(8 * 60, "m"))
    order = np.lexsort((start, booked, request_row))
    successor = np.full(len(a), -1, np.int64)
    same = request_row[order][1:] == request_row[order][:-1]
    successor[order[:-1][same]] = order[1:][same]
    previous = np.full(len(a), -1, np.int64)
    previous[order[1:][same]] = order[:-1][same]
    room, session = _rooms_and_sessions(a, network, start, session_lookup)
    outcome = a.outcome.to_numpy().astype(str)
    cancelled = np.char.startswith(outcome, "cancelled")
    successor_booked = np.where(successor >= 0, booked[np.maximum(successor, 0)],
                                np.datetime64("NaT"))
    cancel_at = np.where(successor >= 0, successor_booked,
                         np.maximum(booked, start - np.timedelta64(1, "D")))
    minutes = exams.duration_min.to_numpy()[exam_row].astype("timedelta64[m]")
    start_utc = local_to_utc(start)
    return pd.DataFrame({
        "appointment_id": np.arange(len(a), dtype=np.int64),
        "request_id": request_row.astype(np.int64),
        "state": pd.Categorical(np.where(cancelled, "cancelled", outcome)),
        "room_id": pd.Categorical.from_codes(room, [r.room_id for r in network.rooms]),
        "session_id": pd.Series(session, dtype="Int64").where(session >= 0),
        "start_at": start_utc,
        "end_at": local_to_utc(start + minutes),
        "booked_at": local_to_utc(booked),
        "cancelled_at": local_to_utc(cancel_at).where(cancelled),
        "cancelled_by": pd.Categorical(np.where(cancelled, np.char.replace(
            outcome, "cancelled_", ""), None), categories=["patient", "hospital"]),
        "replaces_appointment_id": pd.Series(previous, dtype="Int64").where(previous >= 0),
        "accession_number": a.appointment_id.astype("str").to_numpy(),
        "request_row": request_row,
        "successor_booked": local_to_utc(successor_booked),
    })


def _rooms_and_sessions(a: pd.DataFrame, network: Network, start: np.ndarray,
                        session_lookup: tuple[np.ndarray, np.datetime64]
                        ) -> tuple[np.ndarray, np.ndarray]:
    """A room in turn among the site's rooms of the modality, and its session."""
    pool_keys = pd.MultiIndex.from_arrays([[r.site_id for r in network.rooms],
                                           [r.modality.value for r in network.rooms]])
    pools = pd.MultiIndex.from_tuples(sorted(set(pool_keys)))
    room_pool = pools.get_indexer(pool_keys)
    pool_rooms = np.argsort(room_pool, kind="stable")
    pool_size = np.bincount(room_pool, minlength=len(pools))
    pool_first = np.r_[0, np.cumsum(pool_size)[:-1]]
    pool = pools.get_indexer(pd.MultiIndex.from_arrays([a.site_id.astype(str),
                                                        a.modality.astype(str)]))
    day = start.astype("datetime64[D]")
    order = np.lexsort((start, day, pool))
    new_group = np.r_[True, (pool[order][1:] != pool[order][:-1])
                      | (day[order][1:] != day[order][:-1])]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order)) - group_start
    room = pool_rooms[pool_first[pool] + rank % pool_size[pool]]
    lookup, first_day = session_lookup
    minute = (start - day).astype(np.int64)
    period = np.where(minute < 12 * 60 + 30, 0, np.where(minute < 17 * 60 + 30, 1, 2))
    day_index = (day - first_day).astype(np.int64)
    inside = (day_index >= 0) & (day_index < lookup.shape[1])
    session = np.full(len(a), -1, np.int64)
    for step in range(3):  # fall back to an earlier period of the day when this one is closed
        chosen = np.maximum(period - step, 0)
        found = lookup[room, np.clip(day_index, 0, lookup.shape[1] - 1), chosen]
        fill = (session < 0) & inside & (period - step >= 0) & (found >= 0)
        session[fill] = found[fill]
    return room, session


def _requests(history: History, network: Network, exams: pd.DataFrame,
              appointments: pd.DataFrame) -> pd.DataFrame:
    r = history.requests
    n = len(r)
    first = appointments.sort_values("booked_at", kind="stable").drop_duplicates("request_row")
    rows = first.request_row.to_numpy()
    booked = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    booked[rows] = _naive(first.booked_at)
    first_booked = pd.Series(booked).dt.tz_localize("UTC")
    received_local = (r.received_date.to_numpy().astype("datetime64[m]")
                      + np.timedelta64(8 * 60, "m"))
    received = local_to_utc(received_local)
    received = received.where(first_booked.isna() | (received <= first_booked), first_booked)
    trust_ids = [t.trust_id for t in network.trusts]
    site_trust = {s.site_id: trust_ids.index(s.trust_id) for s in network.sites}
    room_trust = np.array([site_trust[room.site_id] for room in network.rooms])
    trust = np.full(n, -1, np.int64)
    trust[rows] = room_trust[first.room_id.cat.codes.to_numpy()]
    missing = trust < 0
    trust[missing] = _nearest_trust(network, r.area_id.to_numpy()[missing],
                                    r.modality.to_numpy()[missing])
    return pd.DataFrame({
        "request_id": np.arange(n, dtype=np.int64),
        "patient_id": pd.Index(history.patients.patient_id).get_indexer(r.patient_id).astype(
            np.int64),
        "exam_code": pd.Categorical(r.exam_code.to_numpy(), categories=exams.code),
        "priority": pd.Categorical(r.priority.to_numpy()),
        "trust_id": pd.Categorical.from_codes(trust, trust_ids),
        "area_id": pd.Categorical(r.area_id.to_numpy()),
        "received_at": received,
        "requested_on": r.received_date.astype("datetime64[s]"),
        "source_setting": pd.Series(pd.NA, index=range(n), dtype="str"),
        "referrer_code": pd.Series(pd.NA, index=range(n), dtype="str"),
        "referring_org_code": pd.Series(pd.NA, index=range(n), dtype="str"),
        "first_booked": first_booked,
    })


def _nearest_trust(network: Network, areas: np.ndarray, modalities: np.ndarray) -> np.ndarray:
    """Trust (position) of the nearest site to the area's centroid with a room of the
    modality."""
    trust_ids = [t.trust_id for t in network.trusts]
    sites_with: dict[str, list[str]] = {}
    for room in network.rooms:
        sites_with.setdefault(room.modality.value, [])
        if room.site_id not in sites_with[room.modality.value]:
            sites_with[room.modality.value].append(room.site_id)
    answer = {}
    for area_id, modality in set(zip(areas, modalities, strict=True)):
        area = network.area_by_id[area_id]
        nearest = min(sites_with[modality], key=lambda s: (network.site_by_id[s].lat - area.lat)
                      ** 2 + (network.site_by_id[s].lon - area.lon) ** 2)
        answer[(area_id, modality)] = trust_ids.index(network.site_by_id[nearest].trust_id)
    return np.array([answer[(a, m)] for a, m in zip(areas, modalities, strict=True)],
                    dtype=np.int64)


def _events(history: History, requests: pd.DataFrame, appointments: pd.DataFrame,
            end: np.datetime64) -> pd.DataFrame:
    """The request event log the history implies (see the module docstring)."""
    a = appointments
    state = a.state.astype(str).to_numpy()
    has_successor = a.successor_booked.notna().to_numpy()
    went_wrong = (state == "cancelled") | (state == "dna")
    wrong_at = np.where(state == "cancelled", _naive(a.cancelled_at), _naive(a.start_at))
    history_end = _naive(local_to_utc(np.array([end.astype("datetime64[m]")])))[0]
    discharge = wrong_at + DISCHARGE_AFTER
    discharged = went_wrong & ~has_successor & (discharge < history_end)
    reopen_at = np.where(state == "cancelled", wrong_at, _naive(a.successor_booked))
    reopened = (state == "cancelled") | ((state == "dna") & has_successor)
    first = requests.first_booked.notna().to_numpy()
    parts = [
        (requests.request_id.to_numpy(), _naive(requests.received_at), "received"),
        (requests.request_id.to_numpy()[first], _naive(requests.first_booked)[first],
         "appointable"),
        (a.request_id.to_numpy()[reopened], reopen_at[reopened], "appointable"),
        (a.request_id.to_numpy(), _naive(a.booked_at), "appointed"),
        (a.request_id.to_numpy()[state == "attended"], _naive(a.start_at)[state == "attended"],
         "attended"),
        (a.request_id.to_numpy()[state == "dna"], _naive(a.start_at)[state == "dna"], "dna"),
        (a.request_id.to_numpy()[discharged], discharge[discharged], "cancelled"),
    ]
    request = np.concatenate([np.asarray(p[0], dtype=np.int32) for p in parts])
    at = np.concatenate([np.asarray(p[1], dtype="datetime64[ns]") for p in parts])
    rank = np.concatenate([np.full(len(p[0]), i, np.int8) for i, p in enumerate(parts)])
    order = np.lexsort((rank, at, request))
    names = [p[2] for p in parts]
    categories = list(dict.fromkeys(names))
    to_state = pd.Categorical.from_codes(
        np.array([categories.index(n) for n in names], np.int8)[rank[order]], categories)

    del rank
    request, at = request[order], at[order]
    return pd.DataFrame({
        "request_id": request,
        "at": pd.DatetimeIndex(at).tz_localize("UTC"),
        "from_state": pd.Categorical.from_codes(np.full(len(order), -1, np.int8), categories),
        "to_state": to_state,
    }, copy=False)

"""The checked input frames turned into aligned numpy arrays once, so every figure is a few
vectorised passes: requests, patients and sessions by row position, keys as small integer
codes, instants as UTC nanoseconds, and the event log sorted by (request, time) with the
offsets of each request's events."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from domain.lifecycle import AppointmentState, RequestState
from domain.vocabulary import ExamFamily, Modality, Priority
from reporting.ids import IdIndex, enum_codes, key_codes
from reporting.inputs import SOURCE_SETTINGS, CancelledBy, ReportInputs, check_inputs, instants

REQUEST_STATES = tuple(RequestState)
APPOINTMENT_STATES = tuple(AppointmentState)
PRIORITIES = tuple(Priority)
MODALITIES = tuple(Modality)
FAMILIES = tuple(ExamFamily)
NO_TIME = np.iinfo(np.int64).min


def state_code(state: RequestState) -> int:
    return REQUEST_STATES.index(state)


def appointment_code(state: AppointmentState) -> int:
    return APPOINTMENT_STATES.index(state)


@dataclass(frozen=True)
class Tables:
    """The small reference frames, and codes linking them."""

    rooms: pd.DataFrame
    sites: pd.DataFrame
    trusts: pd.DataFrame
    areas: pd.DataFrame
    exams: pd.DataFrame
    room_site: np.ndarray
    room_modality: np.ndarray
    site_trust: np.ndarray
    trust_ics: np.ndarray
    ics_ids: pd.Index
    area_ics: np.ndarray
    exam_modality: np.ndarray
    exam_family: np.ndarray
    exam_minutes: np.ndarray


@dataclass(frozen=True)
class Requests:
    exam: np.ndarray
    priority: np.ndarray
    trust: np.ndarray
    area: np.ndarray
    patient: np.ndarray
    received: np.ndarray
    source: np.ndarray  # index into SOURCE_SETTINGS, -1 when blank


@dataclass(frozen=True)
class Events:
    """The request event log sorted by (request position, time); `offsets[r]` is the first
    event of request r and `offsets[r + 1]` one past its last."""

    request: np.ndarray
    at: np.ndarray
    state: np.ndarray
    offsets: np.ndarray


@dataclass(frozen=True)
class Appointments:
    request: np.ndarray
    state: np.ndarray
    room: np.ndarray
    session: np.ndarray  # session position, -1 when none
    start: np.ndarray
    end: np.ndarray
    booked: np.ndarray
    cancelled: np.ndarray
    cancelled_by: np.ndarray  # index into CancelledBy, -1 when blank
    replaces: np.ndarray  # appointment position, -1 when none


@dataclass(frozen=True)
class Sessions:
    room: np.ndarray
    start: np.ndarray
    end: np.ndarray
    minutes: np.ndarray


@dataclass(frozen=True)
class Record:
    inputs: ReportInputs
    tables: Tables
    requests: Requests
    events: Events
    appointments: Appointments
    sessions: Sessions
    memo: dict[tuple, np.ndarray] = field(default_factory=dict, compare=False, repr=False)
    """Results several figures share (a request's state at an instant), kept per record."""


def prepare(inputs: ReportInputs, checked: bool = False) -> Record:
    """Check the inputs and build the arrays every figure reads. `checked`: they were checked
    already, or are a part (`subset.inputs_for`) of inputs that were (a dashboard narrows one
    checked read many ways)."""
    if not checked:
        check_inputs(inputs)
    tables = _tables(inputs)
    request_index = IdIndex(inputs.requests.request_id.to_numpy())
    requests = _requests(inputs, tables)
    events = _events(inputs, request_index)
    appointments = _appointments(inputs, tables, request_index)
    s = inputs.sessions
    sessions = Sessions(room=key_codes(s.room_id, tables.rooms.room_id),
                        start=instants(s.start_at), end=instants(s.end_at),
                        minutes=s.minutes.to_numpy(dtype=np.int64))
    return Record(inputs, tables, requests, events, appointments, sessions)


def _tables(inputs: ReportInputs) -> Tables:
    rooms, sites, trusts, exams = inputs.rooms, inputs.sites, inputs.trusts, inputs.exams
    ics_ids = pd.Index(sorted(set(trusts.ics_id.astype(str))
                              | set(inputs.areas.ics_id.astype(str))))
    return Tables(
        rooms=rooms.reset_index(drop=True), sites=sites.reset_index(drop=True),
        trusts=trusts.reset_index(drop=True), areas=inputs.areas.reset_index(drop=True),
        exams=exams.reset_index(drop=True),
        room_site=key_codes(rooms.site_id, sites.site_id),
        room_modality=enum_codes(rooms.modality, tuple(m.value for m in MODALITIES)),
        site_trust=key_codes(sites.trust_id, trusts.trust_id),
        trust_ics=ics_ids.get_indexer(trusts.ics_id.astype(str)),
        ics_ids=ics_ids,
        area_ics=ics_ids.get_indexer(inputs.areas.ics_id.astype(str)),
        exam_modality=enum_codes(exams.modality, tuple(m.value for m in MODALITIES)),
        exam_family=enum_codes(exams.family, tuple(f.value for f in FAMILIES)),
        exam_minutes=exams.duration_min.to_numpy(dtype=np.int64),
    )


def _requests(inputs: ReportInputs, tables: Tables) -> Requests:
    r = inputs.requests
    patients = IdIndex(inputs.patients.patient_id.to_numpy())
    return Requests(
        exam=key_codes(r.exam_code, tables.exams.code),
        priority=enum_codes(r.priority, tuple(p.value for p in PRIORITIES)),
        trust=key_codes(r.trust_id, tables.trusts.trust_id),
        area=key_codes(r.area_id, tables.areas.area_id),
        patient=patients.positions(r.patient_id.to_numpy()),
        received=instants(r.received_at),
        source=enum_codes(r.source_setting, SOURCE_SETTINGS),
    )


def _events(inputs: ReportInputs, request_index: IdIndex) -> Events:
    e = inputs.request_events
    request = request_index.positions(e.request_id.to_numpy())
    at = instants(e["at"])
    state = enum_codes(e.to_state, tuple(s.value for s in REQUEST_STATES))
    if not _sorted_by_request_then_time(request, at):
        order = np.lexsort((at, request))
        request, at, state = request[order], at[order], state[order]
    counts = np.bincount(request, minlength=len(request_index))
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return Events(request=request, at=at, state=state, offsets=offsets)


def _sorted_by_request_then_time(request: np.ndarray, at: np.ndarray) -> bool:
    step = np.diff(request)
    return bool(np.all(step >= 0) and np.all((step > 0) | (np.diff(at) >= 0)))


def _appointments(inputs: ReportInputs, tables: Tables, request_index: IdIndex) -> Appointments:
    a = inputs.appointments
    own = IdIndex(a.appointment_id.to_numpy())
    sessions = IdIndex(inputs.sessions.session_id.to_numpy())
    return Appointments(
        request=request_index.positions(a.request_id.to_numpy()),
        state=enum_codes(a.state, tuple(s.value for s in APPOINTMENT_STATES)),
        room=key_codes(a.room_id, tables.rooms.room_id),
        session=sessions.positions(a.session_id),
        start=instants(a.start_at), end=instants(a.end_at), booked=instants(a.booked_at),
        cancelled=_optional_instants(a.cancelled_at),
        cancelled_by=enum_codes(a.cancelled_by, tuple(c.value for c in CancelledBy)),
        replaces=own.positions(a.replaces_appointment_id),
    )


def _optional_instants(series: pd.Series) -> np.ndarray:
    if not isinstance(series.dtype, pd.DatetimeTZDtype):  # all blank
        return np.full(len(series), NO_TIME, np.int64)
    return instants(series)

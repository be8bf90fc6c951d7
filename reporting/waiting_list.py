"""The waiting list as DM01 counts it, on any census date.

A request is on the list at the end of the census day (UK time) when:
- its exam is one of the DM01 imaging tests (MRI, CT, non-obstetric ultrasound; plain X-ray,
  fluoroscopy and obstetric ultrasound are not in DM01);
- it is not planned (surveillance, due-date driven) and not unscheduled (an inpatient or
  A&E patient, patient source setting 01 or 05): those are never on a waiting list;
- its latest state by then is one of received, justified, waiting, appointable, appointed
  or dna (a request attended, reported, rejected or cancelled has left the list).

The clock starts when the request was received. With `reset_clock` (DM01 guidance allows a
reset when the patient cancels or does not attend) it restarts at the latest patient
cancellation (when it was cancelled) or DNA (the missed appointment's start) before the census;
a hospital cancellation never resets it. Weeks waited are completed weeks between the clock
start's UK date and the census date: received on the census day is 0 weeks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from domain.lifecycle import AppointmentState, RequestState
from domain.vocabulary import ExamFamily, Priority
from reporting.inputs import SOURCE_SETTINGS, CancelledBy
from reporting.london import local_days, local_midnight_ns
from reporting.record import (
    FAMILIES,
    MODALITIES,
    PRIORITIES,
    Record,
    appointment_code,
    state_code,
)

MRI, CT, NOUS = "Magnetic Resonance Imaging", "Computed Tomography", "Non-obstetric Ultrasound"
DM01_TESTS = (MRI, CT, NOUS)
"""The DM01 imaging tests this network performs, in the return's order (barium enema and DEXA
are DM01 imaging tests too, but no exam of the catalogue is one)."""


def dm01_test(family: ExamFamily) -> str | None:
    """The DM01 test an exam family counts under; None if it is not in DM01."""
    if family.modality.value == "MR":
        return MRI
    if family.modality.value == "CT":
        return CT
    if family.modality.value == "US" and family is not ExamFamily.US_OBSTETRIC:
        return NOUS
    return None


WAITING_STATES = (RequestState.RECEIVED, RequestState.JUSTIFIED, RequestState.WAITING,
                  RequestState.APPOINTABLE, RequestState.APPOINTED, RequestState.DNA)
UNSCHEDULED_SETTINGS = ("01", "05")
"""Patient source settings whose tests are unscheduled: admitted inpatients and A&E."""
BAND_LABELS = ("0 <01 Week", *[f"{w:02d} <{w + 1:02d} Weeks" for w in range(1, 13)],
               "13+ Weeks")


def census_instant(census_day: date) -> int:
    """End of the census day, UK time, as UTC ns."""
    return local_midnight_ns(census_day + timedelta(days=1))


def waiting_list(record: Record, census_day: date, reset_clock: bool = True) -> pd.DataFrame:
    """One row per request waiting at the end of `census_day`: request (position), trust,
    ics, modality, test, clock_start (UK date) and weeks_waited."""
    end = census_instant(census_day)
    r, t = record.requests, record.tables
    test_of_family = np.array([dm01_test(f) or "" for f in FAMILIES], dtype=object)
    test = test_of_family[t.exam_family[r.exam]]
    unscheduled = np.isin(r.source, [SOURCE_SETTINGS.index(s) for s in UNSCHEDULED_SETTINGS])
    candidate = ((test != "") & (r.priority != PRIORITIES.index(Priority.PLANNED))
                 & ~unscheduled & (r.received < end))
    state = state_at(record, end)
    waiting = candidate & np.isin(state, [state_code(s) for s in WAITING_STATES])
    rows = np.flatnonzero(waiting)
    clock = r.received[rows]
    if reset_clock:
        clock = np.maximum(clock, _latest_reset(record, end)[rows])
    clock_day = local_days(clock)
    weeks = ((np.datetime64(census_day, "D") - clock_day).astype(np.int64) // 7)
    trust = r.trust[rows]
    return pd.DataFrame({
        "request": rows,
        "trust": t.trusts.trust_id.astype(str).to_numpy(dtype=object)[trust],
        "ics": t.ics_ids.to_numpy(dtype=object)[t.trust_ics[trust]],
        "modality": np.array([m.value for m in MODALITIES], dtype=object)[
            t.exam_modality[r.exam[rows]]],
        "test": test[rows],
        "clock_start": clock_day,
        "weeks_waited": weeks,
    })


def waiting_bands(waiting: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Counts per weeks-waited band (0 <01 … 12 <13, 13+) per group, with the total, the
    numbers waiting 6+ and 13+ weeks and the share waiting 6+ weeks (the DM01 measure).
    With no `by`, one row for the whole network."""
    keys = list(by) or ["network"]
    frame = waiting.assign(network="all", band=np.minimum(waiting.weeks_waited.to_numpy(), 13))
    counts = (frame.groupby([*keys, "band"]).size().unstack("band", fill_value=0)
              .reindex(columns=range(14), fill_value=0))
    counts.columns = list(BAND_LABELS)
    counts = counts.reset_index()
    bands = counts[list(BAND_LABELS)].to_numpy(dtype=np.int64).reshape(len(counts), 14)
    counts["Total Waiting List"] = bands.sum(axis=1)
    counts["Waiting 6+ Weeks"] = bands[:, 6:].sum(axis=1)
    counts["Waiting 13+ Weeks"] = bands[:, 13]
    total = counts["Total Waiting List"].to_numpy()
    counts["Share Waiting 6+ Weeks"] = np.where(total > 0, counts["Waiting 6+ Weeks"].to_numpy()
                                                / np.maximum(total, 1), 0.0)
    return counts


def state_at(record: Record, end: int) -> np.ndarray:
    """Each request's latest state before `end` (-1 if it had none): events are sorted by
    request then time, so a request's events before `end` are a prefix of its events."""
    key = ("state_at", end)
    if key not in record.memo:
        e = record.events
        before = np.bincount(e.request[e.at < end], minlength=len(e.offsets) - 1)
        last = e.offsets[:-1] + before - 1
        record.memo[key] = np.where(before > 0, e.state[np.maximum(last, 0)], -1)
    return record.memo[key]


def _latest_reset(record: Record, end: int) -> np.ndarray:
    """Per request, the latest patient cancellation or DNA before `end` (smallest int64 if
    none)."""
    a = record.appointments
    dna = (a.state == appointment_code(AppointmentState.DNA)) & (a.start < end)
    patient = ((a.state == appointment_code(AppointmentState.CANCELLED))
               & (a.cancelled_by == list(CancelledBy).index(CancelledBy.PATIENT))
               & (a.cancelled < end))
    reset = np.full(len(record.requests.exam), np.iinfo(np.int64).min, np.int64)
    np.maximum.at(reset, a.request[dna], a.start[dna])
    np.maximum.at(reset, a.request[patient], a.cancelled[patient])
    return reset

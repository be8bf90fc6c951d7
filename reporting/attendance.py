"""Did-not-attend and cancellation rates of the appointments that start in a window, the
share of cancelled or missed appointments that were rebooked, and the backfill fill rate.

- DNA rate: DNAs / (attended + DNAs), the outcomes of appointments that went ahead.
- Cancellation rate: cancelled / all appointments starting in the window (held ones are left
  out), split into patient and hospital cancellations.
- Rebooked share: cancelled or DNA appointments that another appointment replaces
  (`replaces_appointment_id`) / all cancelled or DNA ones.
- Backfill fill rate: of the appointments cancelled 48 hours or more before their start, the
  share whose slot the backfill engine filled (the `backfill` input frame). Without that
  frame the rate is blank (NaN): backfill does not exist yet.
- `not_recorded`: appointments still `booked` although they started: no outcome recorded yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from domain.lifecycle import AppointmentState
from reporting.ids import IdIndex
from reporting.inputs import CancelledBy
from reporting.labels import ratio, room_labels, tidy_by
from reporting.london import local_days
from reporting.record import Record, appointment_code

BACKFILL_NOTICE_NS = 48 * 3600 * 10**9
DIMENSIONS = ("network", "modality", "ics", "trust", "site")
_A = AppointmentState


def attendance(record: Record, window: tuple[int, int],
               dimensions: Sequence[str] = DIMENSIONS) -> pd.DataFrame:
    """Counts and rates per group: by, group, appointments, attended, dna, cancelled,
    cancelled_patient, cancelled_hospital, not_recorded, rebooked, freed_48h, backfilled,
    dna_rate, cancellation_rate, patient_cancellation_rate, hospital_cancellation_rate,
    rebooked_share, backfill_fill_rate. Besides DIMENSIONS, `month` groups by the UK calendar
    month of the start (a trend in one pass over a window of several months)."""
    a = record.appointments
    rows = np.flatnonzero((a.start >= window[0]) & (a.start < window[1])
                          & (a.state != appointment_code(_A.HELD)))
    state = a.state[rows]
    cancelled = state == appointment_code(_A.CANCELLED)
    replaced = np.zeros(len(a.state), bool)
    replaced[a.replaces[a.replaces >= 0]] = True
    freed = cancelled & ((a.start[rows] - a.cancelled[rows]) >= BACKFILL_NOTICE_NS)
    frame = room_labels(record, a.room[rows])
    if "month" in dimensions:
        months = local_days(a.start[rows]).astype("datetime64[M]")
        values, codes = np.unique(months, return_inverse=True)
        frame["month"] = pd.Categorical.from_codes(codes.astype(np.int64),
                                                   [str(m) for m in values])
    frame["attended"] = state == appointment_code(_A.ATTENDED)
    frame["dna"] = state == appointment_code(_A.DNA)
    frame["cancelled"] = cancelled
    frame["cancelled_patient"] = cancelled & (a.cancelled_by[rows] == _by(CancelledBy.PATIENT))
    frame["cancelled_hospital"] = cancelled & (a.cancelled_by[rows] == _by(CancelledBy.HOSPITAL))
    frame["not_recorded"] = state == appointment_code(_A.BOOKED)
    frame["rebooked"] = replaced[rows] & (cancelled | frame.dna.to_numpy())
    frame["freed_48h"] = freed
    frame["backfilled"] = freed & _backfilled(record)[rows]
    counts = tidy_by(frame, dimensions, _count)
    return _rates(counts, backfill_known=record.inputs.backfill is not None)


def _by(who: CancelledBy) -> int:
    return list(CancelledBy).index(who)


def _backfilled(record: Record) -> np.ndarray:
    """Per appointment, whether the backfill engine filled its freed slot."""
    filled = np.zeros(len(record.appointments.state), bool)
    backfill = record.inputs.backfill
    if backfill is None or backfill.empty:
        return filled
    index = IdIndex(record.inputs.appointments.appointment_id.to_numpy())
    taken = backfill.filled_by_appointment_id.notna().to_numpy()
    filled[index.positions(backfill.appointment_id.to_numpy()[taken])] = True
    return filled


def _count(grouped: pd.core.groupby.DataFrameGroupBy) -> pd.DataFrame:
    flags = ["attended", "dna", "cancelled", "cancelled_patient", "cancelled_hospital",
             "not_recorded", "rebooked", "freed_48h", "backfilled"]
    counts = grouped[flags].sum().astype(np.int64)
    counts.insert(0, "appointments", grouped.size())
    return counts


def _rates(counts: pd.DataFrame, backfill_known: bool) -> pd.DataFrame:
    counts["dna_rate"] = ratio(counts.dna, counts.attended + counts.dna)
    counts["cancellation_rate"] = ratio(counts.cancelled, counts.appointments)
    counts["patient_cancellation_rate"] = ratio(counts.cancelled_patient, counts.appointments)
    counts["hospital_cancellation_rate"] = ratio(counts.cancelled_hospital, counts.appointments)
    counts["rebooked_share"] = ratio(counts.rebooked, counts.cancelled + counts.dna)
    counts["backfill_fill_rate"] = (ratio(counts.backfilled, counts.freed_48h)
                                    if backfill_known else np.nan)
    return counts

"""The inputs narrowed to one trust and/or one modality, so every figure of the narrowed record
is that trust's or that modality's (a manager's filter). A request stays when its trust and its
exam's modality match; its events and appointments follow it. Sessions stay when their room's
site belongs to the trust and the room has the modality (an appointment of a kept request in
another trust's session keeps no session). Reference frames are kept whole (ids
stay resolvable); areas and forecasts are kept too: demand of a modality is narrowed by the
figures themselves, a trust has no demand areas of its own."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from reporting.errors import ReportInputError
from reporting.inputs import ReportInputs


def inputs_for(inputs: ReportInputs, trust_id: str | None = None,
               modality: str | None = None) -> ReportInputs:
    """The part of `inputs` that belongs to `trust_id` and `modality` (None: all)."""
    if trust_id is None and modality is None:
        return inputs
    if trust_id is not None and trust_id not in set(inputs.trusts.trust_id.astype(str)):
        raise ReportInputError("trusts", f"'{trust_id}' is not a trust_id of trusts",
                               "trust_id")
    requests = inputs.requests
    keep = np.ones(len(requests), bool)
    room_keep = np.ones(len(inputs.rooms), bool)
    if trust_id is not None:
        keep &= (requests.trust_id.astype(str) == trust_id).to_numpy()
        sites = inputs.sites.site_id[inputs.sites.trust_id.astype(str) == trust_id]
        room_keep &= inputs.rooms.site_id.isin(sites).to_numpy()
    if modality is not None:
        exam_modality = inputs.exams.set_index("code").modality.astype(str)
        keep &= (exam_modality.reindex(requests.exam_code.astype(str)).to_numpy() == modality)
        room_keep &= (inputs.rooms.modality.astype(str) == modality).to_numpy()
    kept = requests.request_id[keep]
    rooms = inputs.rooms.room_id[room_keep]
    appointments = _rows(inputs.appointments, inputs.appointments.request_id.isin(kept))
    appointment_ids = appointments.appointment_id
    backfill = inputs.backfill
    if backfill is not None:
        backfill = _rows(backfill, backfill.appointment_id.isin(appointment_ids))
        filled = backfill.filled_by_appointment_id
        backfill = backfill.assign(filled_by_appointment_id=filled.where(
            filled.isin(appointment_ids)))
    sessions = _rows(inputs.sessions, inputs.sessions.room_id.isin(rooms))
    replaced = appointments.replaces_appointment_id
    session = appointments.session_id
    appointments = appointments.assign(  # links to rows left out are blank, not dangling
        replaces_appointment_id=replaced.where(replaced.isin(appointment_ids)),
        session_id=session.where(session.isin(sessions.session_id)))
    return replace(
        inputs, requests=_rows(requests, pd.Series(keep, index=requests.index)),
        request_events=_rows(inputs.request_events, inputs.request_events.request_id.isin(kept)),
        appointments=appointments, sessions=sessions, backfill=backfill)


def _rows(frame: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    return frame[mask.to_numpy()].reset_index(drop=True)

"""A tiny network and a builder of hand-written histories for the reporting tests: two trusts
in one ICS, one site each, four rooms, and requests, events, appointments and sessions written
in UK local time (converted to UTC as the service stores them)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from reporting.inputs import ReportInputs
from reporting.reference_frames import exam_frame

LONDON = "Europe/London"


def utc(local: str | None) -> pd.Timestamp | None:
    """A UK wall-clock time 'YYYY-MM-DD HH:MM' as a UTC instant (BST before the October
    change when ambiguous)."""
    if local is None:
        return None
    return pd.Timestamp(local).tz_localize(LONDON, ambiguous=True).tz_convert("UTC")


@dataclass
class World:
    requests: list[dict[str, Any]] = field(default_factory=list)
    patients: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    appointments: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    backfill: list[dict[str, Any]] | None = None

    def patient(self, nhs_number: str | None = "9434765919", **details: Any) -> int:
        patient_id = len(self.patients) + 1
        self.patients.append({"patient_id": patient_id, "nhs_number": nhs_number,
                              "nhs_number_status": details.get("nhs_number_status", "01"),
                              "birth_date": pd.Timestamp(details.get("birth_date", "1970-05-17")),
                              "sex": details.get("sex", "F"),
                              "ethnic_category": details.get("ethnic_category", "A"),
                              "postcode": details.get("postcode", "B15 2TH"),
                              "gp_practice_code": details.get("gp_practice_code", "M85001")})
        return patient_id

    def request(self, exam: str, received: str, trust: str = "T1", priority: str = "routine",
                patient: int | None = None, source: str | None = "04",
                states: list[tuple[str, str]] = ()) -> int:
        """A request received at `received` (local), with its `received` event and then
        `states` as (local time, state) events in order."""
        request_id = len(self.requests) + 1
        patient = self.patient() if patient is None else patient
        self.requests.append({
            "request_id": request_id, "patient_id": patient, "exam_code": exam,
            "priority": priority, "trust_id": trust, "area_id": "A1",
            "received_at": utc(received), "requested_on": pd.Timestamp(received[:10]),
            "source_setting": source, "referrer_code": "G1234567",
            "referring_org_code": "M85001"})
        self.event(request_id, received, "received")
        for at, state in states:
            self.event(request_id, at, state)
        return request_id

    def event(self, request_id: int, at: str, state: str) -> None:
        previous = [e for e in self.events if e["request_id"] == request_id]
        self.events.append({"request_id": request_id, "at": utc(at),
                            "from_state": previous[-1]["to_state"] if previous else None,
                            "to_state": state})

    def session(self, room: str, start: str, minutes: int = 240) -> int:
        session_id = len(self.sessions) + 1
        begin = utc(start)
        self.sessions.append({"session_id": session_id, "room_id": room, "start_at": begin,
                              "end_at": begin + pd.Timedelta(minutes=minutes),
                              "minutes": minutes})
        return session_id

    def appointment(self, request: int, room: str, start: str, minutes: int, state: str,
                    booked: str, cancelled: str | None = None, cancelled_by: str | None = None,
                    replaces: int | None = None, session: int | None = None,
                    accession: str | None = None) -> int:
        appointment_id = len(self.appointments) + 1
        begin = utc(start)
        self.appointments.append({
            "appointment_id": appointment_id, "request_id": request, "state": state,
            "room_id": room, "session_id": session, "start_at": begin,
            "end_at": begin + pd.Timedelta(minutes=minutes), "booked_at": utc(booked),
            "cancelled_at": utc(cancelled), "cancelled_by": cancelled_by,
            "replaces_appointment_id": replaces,
            "accession_number": accession or f"ACC{appointment_id:06d}"})
        return appointment_id

    def inputs(self, **changes: Any) -> ReportInputs:
        built = ReportInputs(
            requests=_frame(self.requests, REQUEST_TYPES),
            patients=_frame(self.patients, PATIENT_TYPES),
            request_events=_frame(self.events, EVENT_TYPES),
            appointments=_frame(self.appointments, APPOINTMENT_TYPES),
            sessions=_frame(self.sessions, SESSION_TYPES),
            rooms=pd.DataFrame({"room_id": ["R-MR", "R-CT", "R-US", "R-XR"],
                                "site_id": ["S1", "S1", "S2", "S2"],
                                "modality": ["MR", "CT", "US", "XR"]}),
            sites=pd.DataFrame({"site_id": ["S1", "S2"], "name": ["Site one", "Site two"],
                                "trust_id": ["T1", "T2"],
                                "site_code": pd.Series(["RAA01", None], dtype="str")}),
            trusts=pd.DataFrame({"trust_id": ["T1", "T2"], "name": ["Trust one", "Trust two"],
                                 "ics_id": ["ICS1", "ICS1"],
                                 "org_code": pd.Series(["RAA", "RBB"], dtype="str")}),
            areas=pd.DataFrame({"area_id": ["A1"], "ics_id": ["ICS1"]}),
            exams=exam_frame(),
            backfill=None if self.backfill is None else _frame(self.backfill, BACKFILL_TYPES),
        )
        return replace(built, **changes)


REQUEST_TYPES = {"request_id": "int64", "patient_id": "int64", "exam_code": "str",
                 "priority": "str", "trust_id": "str", "area_id": "str",
                 "received_at": "datetime64[ns, UTC]", "requested_on": "datetime64[ns]",
                 "source_setting": "str", "referrer_code": "str", "referring_org_code": "str"}
PATIENT_TYPES = {"patient_id": "int64", "nhs_number": "str", "nhs_number_status": "str",
                 "birth_date": "datetime64[ns]", "sex": "str", "ethnic_category": "str",
                 "postcode": "str", "gp_practice_code": "str"}
EVENT_TYPES = {"request_id": "int64", "at": "datetime64[ns, UTC]", "from_state": "str",
               "to_state": "str"}
APPOINTMENT_TYPES = {"appointment_id": "int64", "request_id": "int64", "state": "str",
                     "room_id": "str", "session_id": "Int64",
                     "start_at": "datetime64[ns, UTC]", "end_at": "datetime64[ns, UTC]",
                     "booked_at": "datetime64[ns, UTC]", "cancelled_at": "datetime64[ns, UTC]",
                     "cancelled_by": "str", "replaces_appointment_id": "Int64",
                     "accession_number": "str"}
SESSION_TYPES = {"session_id": "int64", "room_id": "str", "start_at": "datetime64[ns, UTC]",
                 "end_at": "datetime64[ns, UTC]", "minutes": "int64"}
BACKFILL_TYPES = {"appointment_id": "int64", "first_offer_at": "datetime64[ns, UTC]",
                  "filled_by_appointment_id": "Int64"}


def _frame(rows: list[dict[str, Any]], types: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(types))
    return frame.astype(types)

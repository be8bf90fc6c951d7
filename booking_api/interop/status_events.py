"""What a referrer is told: the state changes of a transaction, read from the audit events it
recorded (every request transition and every booking change is audited, in the same
transaction, so nothing that changed can be missed), with a snapshot of the request, its
patient, its placer order, its appointment and worklist entry as they stand at commit."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from booking_api.appointments.models import Appointment
from booking_api.core.channel import Channel
from booking_api.interop.models import PlacerOrder, WorklistEntry
from booking_api.interop.settings_cache import SETTINGS_STAMP
from booking_api.network.models import ExamType
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from domain.lifecycle import AppointmentState

REQUEST_EVENTS = frozenset({"request.received", "request.transition", "request.changed"})
APPOINTMENT_EVENTS = {
    "appointment.booked": "booked",
    "appointment.rescheduled_to": "rescheduled",
    "appointment.cancelled": "cancelled",
    "appointment.attended": "attended",
    "appointment.dna": "dna",
}
"""Audit actions that are told, and the name of the appointment event each is."""


@dataclass(frozen=True)
class StatusEvent:
    kind: str
    """request.<state> (received, justified, rejected, …, changed) or appointment.<event>."""
    request_id: int
    appointment_id: int | None
    at: datetime
    reason: str | None
    was_booked: bool = True
    """For a cancelled appointment: whether it was booked (a cancelled hold is not told)."""


@dataclass(frozen=True)
class Snapshot:
    """The request and all a message about it names, as at commit."""

    request_id: int
    booking_reference: str
    request_state: str
    priority: str
    exam_code: str
    exam_name: str
    modality: str
    referrer: str
    received_at: datetime
    nhs_number: str | None
    family_name: str
    given_name: str
    date_of_birth: date
    patient_id: int
    placer_system: str | None
    placer_order_number: str | None
    appointment: Appointment | None
    worklist: WorklistEntry | None


APPOINTMENT_FIELDS = ("id", "request_id", "slot_id", "patient_id", "channel", "state",
                      "room_id", "start_at", "end_at", "created_at", "cancel_reason")
WORKLIST_FIELDS = ("request_id", "appointment_id", "accession_number",
                   "requested_procedure_id", "scheduled_step_id", "study_instance_uid",
                   "modality", "station_ae_title", "scheduled_start")


def to_json(change: StatusEvent, shot: Snapshot) -> str:
    """The event and its snapshot as the outbound row keeps them (rendered when sent)."""
    values = {field: getattr(shot, field) for field in Snapshot.__dataclass_fields__
              if field not in ("appointment", "worklist")}
    values["appointment"] = None if shot.appointment is None else {
        field: getattr(shot.appointment, field) for field in APPOINTMENT_FIELDS}
    values["worklist"] = None if shot.worklist is None else {
        field: getattr(shot.worklist, field) for field in WORKLIST_FIELDS}
    return json.dumps({"event": asdict(change), "snapshot": values}, default=_encode,
                      separators=(",", ":"))


def from_json(text: str) -> tuple[StatusEvent, Snapshot]:
    raw = json.loads(text)
    event = raw["event"]
    event["at"] = datetime.fromisoformat(event["at"])
    values = raw["snapshot"]
    values["received_at"] = datetime.fromisoformat(values["received_at"])
    values["date_of_birth"] = date.fromisoformat(values["date_of_birth"])
    if values["appointment"] is not None:
        fields = values["appointment"]
        for name in ("start_at", "end_at", "created_at"):
            fields[name] = datetime.fromisoformat(fields[name]) if fields[name] else None
        fields["state"] = AppointmentState(fields["state"])
        fields["channel"] = Channel(fields["channel"])
        values["appointment"] = Appointment(**fields)
    if values["worklist"] is not None:
        fields = values["worklist"]
        fields["scheduled_start"] = datetime.fromisoformat(fields["scheduled_start"])
        values["worklist"] = WorklistEntry(**fields)
    return StatusEvent(**event), Snapshot(**values)


def _encode(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def status_events(audit_rows: list[dict[str, Any]], session: Session) -> list[StatusEvent]:
    """The told events among a transaction's audit rows, in the order they happened."""
    events = []
    for row in audit_rows:
        action, after = row["action"], row.get("after") or {}
        if action in REQUEST_EVENTS:
            kind = "request.changed" if action == "request.changed" else \
                f"request.{after.get('state')}"
            events.append(StatusEvent(kind, int(row["entity_id"]), None, row["at"],
                                      row.get("reason")))
        elif action in APPOINTMENT_EVENTS:
            appointment_id = int(row["entity_id"])
            request_id = after.get("request_id") or _request_of(session, appointment_id)
            was_booked = (row.get("before") or {}).get("state") != "held"
            events.append(StatusEvent(f"appointment.{APPOINTMENT_EVENTS[action]}",
                                      int(request_id), appointment_id, row["at"],
                                      row.get("reason"), was_booked))
    return [e for e in events if e.kind != "appointment.cancelled" or e.was_booked]


def snapshot(session: Session, request_id: int, appointment_id: int | None) -> Snapshot:
    """The request as at commit with its patient, exam, placer order and worklist entry
    (one query) and the appointment the event is about."""
    return snapshot_and_stamp(session, request_id, appointment_id)[0]


def snapshot_and_stamp(session: Session, request_id: int,
                       appointment_id: int | None) -> tuple[Snapshot, int | None]:
    """`snapshot`, and the interop settings stamp read in the same query (status out checks
    its copy of the subscribers against it: `settings_cache`)."""
    row = session.connection().execute(_SNAPSHOT, {"wanted": request_id}).one()
    appointment = session.get(Appointment, appointment_id) if appointment_id else None
    worklist = None
    if row.accession_number is not None:
        worklist = WorklistEntry(**{field: getattr(row, f"w_{field}")
                                    for field in WORKLIST_FIELDS})
    return Snapshot(
        request_id=request_id, booking_reference=row.booking_reference,
        request_state=str(row.state), priority=str(row.priority), exam_code=row.exam_code,
        exam_name=row.exam_name, modality=str(row.modality), referrer=row.referrer,
        received_at=row.received_at, nhs_number=row.nhs_number, family_name=row.family_name,
        given_name=row.given_name, date_of_birth=row.date_of_birth, patient_id=row.patient_id,
        placer_system=row.placer_system, placer_order_number=row.placer_order_number,
        appointment=appointment, worklist=worklist), row.settings_stamp


_SNAPSHOT = (
    select(Request.booking_reference, Request.state, Request.priority, Request.exam_code,
           Request.referrer, Request.received_at, Request.patient_id,
           ExamType.name.label("exam_name"), ExamType.modality, Patient.nhs_number,
           Patient.family_name, Patient.given_name, Patient.date_of_birth,
           PlacerOrder.placer_system, PlacerOrder.placer_order_number,
           *[getattr(WorklistEntry, field).label(f"w_{field}") for field in WORKLIST_FIELDS],
           WorklistEntry.accession_number, SETTINGS_STAMP.label("settings_stamp"))
    .join(Patient, Patient.id == Request.patient_id)
    .join(ExamType, ExamType.code == Request.exam_code)
    .outerjoin(PlacerOrder, PlacerOrder.request_id == Request.id)
    .outerjoin(WorklistEntry, WorklistEntry.request_id == Request.id)
    .where(Request.id == bindparam("wanted")))


def _request_of(session: Session, appointment_id: int) -> int:
    appointment = session.get(Appointment, appointment_id)
    assert appointment is not None
    return appointment.request_id

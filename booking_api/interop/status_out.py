"""Status out, written in the transaction of the change (a transactional outbox): as a
session commits, the state changes it audited become one `interop_outbound` row per
subscriber that should hear of them, rendered in the subscriber's protocol (HL7 SIU/ORR, a
FHIR Task or Appointment, a signed webhook's JSON), and a booking gets its modality worklist
entry (IHE Scheduled Workflow: accession number, requested procedure id, scheduled step,
study instance UID). A rollback drops them with the change; a commit cannot happen without
them. Delivery is `delivery`'s job.

The hook is attached by `booking_api.database` before the audit hook (which writes, and
forgets, the audit rows this one reads)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from booking_api.appointments.models import Appointment
from booking_api.audit.services import pending_audit_events
from booking_api.core.columns import utc_now
from booking_api.interop.fhir.resources import appointment_resource, task_resource
from booking_api.interop.hl7.acks import new_control_id
from booking_api.interop.hl7.scheduling import build_status_message, message_type_for
from booking_api.interop.models import (
    OutboundMessage,
    OutboundState,
    Protocol,
    Subscriber,
    SubscriberScope,
    WorklistEntry,
)
from booking_api.interop.settings_cache import MISSING, SETTINGS_STAMP, StampedCopies
from booking_api.interop.status_events import (
    Snapshot,
    StatusEvent,
    from_json,
    snapshot_and_stamp,
    status_events,
    to_json,
)
from booking_api.slots.models import Slot

STUDY_UID_ROOT = "2.25"
"""UUID-derived OIDs (ITU-T X.667): unique without a registered root."""


def attach_status_out(factory: sessionmaker[Session]) -> None:
    """A session hook: write worklist entries and outbound rows as sessions commit."""
    event.listen(factory, "before_commit", write_status_out)


def write_status_out(session: Session) -> None:
    audit_rows = pending_audit_events(session)
    if not audit_rows:
        return
    events = status_events(audit_rows, session)
    if not events:
        return
    for change in events:
        if change.kind in ("appointment.booked", "appointment.rescheduled"):
            assign_worklist(session, change)
    now = utc_now()
    rows: list[dict[str, Any]] = []
    listening: tuple[Listener, ...] | None = None
    for change in events:
        shot, stamp = snapshot_and_stamp(session, change.request_id, change.appointment_id)
        if listening is None:
            listening = active_subscribers(session, stamp)
            if not listening:
                return
        rows += [_row(subscriber, change, shot, now) for subscriber in listening
                 if hears(subscriber, shot)]
    if rows:
        session.connection().execute(_INSERT_OUTBOUND, rows)


@dataclass(frozen=True)
class Listener:
    """What status out needs of an active subscriber (a copy kept across transactions)."""

    id: int
    protocol: Protocol
    scope: SubscriberScope
    placer_system: str | None


def active_subscribers(session: Session, stamp: int | None) -> tuple[Listener, ...]:
    """The active subscribers: this process's copy while `stamp` (the settings stamp read in
    this transaction) is the copy's, else read with the stamp in one statement."""
    connection = session.connection()
    kept = _COPIES.get(connection, stamp, "subscribers")
    if kept is not MISSING:
        return kept
    rows = connection.execute(_SUBSCRIBERS_AND_STAMP).all()
    listening = tuple(Listener(row.id, Protocol(row.protocol), SubscriberScope(row.scope),
                               row.placer_system) for row in rows if row.id is not None)
    _COPIES.put(connection, rows[0].stamp, "subscribers", listening)
    return listening


_COPIES = StampedCopies()
_INSERT_OUTBOUND = OutboundMessage.__table__.insert()  # type: ignore[attr-defined]
_stamp = select(SETTINGS_STAMP.label("stamp")).subquery("settings")
_SUBSCRIBERS_AND_STAMP = (
    select(_stamp.c.stamp, Subscriber.id, Subscriber.protocol, Subscriber.scope,
           Subscriber.placer_system)
    .select_from(_stamp.outerjoin(Subscriber, Subscriber.active))
    .order_by(Subscriber.id))
"""Always one row at least (the stamp's), then one per active subscriber."""


def hears(subscriber: Listener | Subscriber, shot: Snapshot) -> bool:
    """Every `all` subscriber; an `own_orders` one of the system that placed the order."""
    return subscriber.scope is SubscriberScope.ALL or (
        subscriber.placer_system is not None and subscriber.placer_system == shot.placer_system)


def assign_worklist(session: Session, change: StatusEvent) -> None:
    """The request's worklist entry, made at its first booking and moved with it after: one
    upsert (the accession number and study UID of the first stay)."""
    appointment = session.get(Appointment, change.appointment_id)
    assert appointment is not None and appointment.start_at is not None
    slot = session.get(Slot, appointment.slot_id)  # loaded by the booking: no query
    station = (appointment.room_id or "").replace("-", "_").upper()[:16]
    values = {"request_id": change.request_id, "appointment_id": appointment.id,
              "accession_number": f"ACC{change.request_id:010d}"[:16],
              "requested_procedure_id": f"RP{change.request_id}"[:16],
              "scheduled_step_id": f"SPS{appointment.id}"[:16],
              "study_instance_uid": f"{STUDY_UID_ROOT}.{uuid.uuid4().int}",
              "modality": str(slot.modality) if slot else "OT", "station_ae_title": station,
              "scheduled_start": appointment.start_at, "updated_at": utc_now()}
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(WorklistEntry)
    moved = ("appointment_id", "scheduled_step_id", "station_ae_title", "scheduled_start",
             "updated_at")
    session.connection().execute(insert.values(values).on_conflict_do_update(
        index_elements=["request_id"], set_={c: insert.excluded[c] for c in moved}))


def _row(subscriber: Listener, change: StatusEvent, shot: Snapshot,
         now: datetime) -> dict[str, Any]:
    """The row: the event and its snapshot as JSON (rendered in the subscriber's protocol
    when sent, off the path of the change), its message type and control id fixed now."""
    control_id = new_control_id()
    message_type, body = message_type_of(subscriber, change, shot), to_json(change, shot)
    return {"dedupe_key": f"{subscriber.id}:{control_id}", "subscriber_id": subscriber.id,
            "request_id": change.request_id, "appointment_id": change.appointment_id,
            "event": change.kind, "message_type": message_type, "control_id": control_id,
            "body": body, "state": OutboundState.PENDING.value, "run_at": now,
            "attempts": 0, "created_at": now, "updated_at": now}


def message_type_of(subscriber: Listener | Subscriber, change: StatusEvent, shot: Snapshot) -> str:
    if subscriber.protocol is Protocol.HL7V2:
        return message_type_for(change)
    if subscriber.protocol is Protocol.FHIR:
        return "Appointment" if _about_booking(change, shot) else "Task"
    return "webhook"


def render(protocol: Protocol, receiver: str, stored: str, control_id: str,
           now: datetime) -> str:
    """The message body of a stored row in the subscriber's protocol."""
    change, shot = from_json(stored)
    if protocol is Protocol.HL7V2:
        return build_status_message(change, shot, control_id, receiver, now)
    if protocol is Protocol.FHIR:
        assert shot.appointment is not None or not _about_booking(change, shot)
        resource = (appointment_resource(shot.appointment, shot.request_id)
                    if _about_booking(change, shot) and shot.appointment is not None
                    else task_resource(change, shot))
        return json.dumps(resource, separators=(",", ":"))
    return json.dumps(webhook_event(change, shot, control_id), separators=(",", ":"),
                      default=str)


def _about_booking(change: StatusEvent, shot: Snapshot) -> bool:
    return shot.appointment is not None and change.kind.startswith("appointment.")


def webhook_event(change: StatusEvent, shot: Snapshot, event_id: str) -> dict[str, Any]:
    appointment = shot.appointment
    return {
        "id": event_id, "type": change.kind, "occurred_at": change.at.isoformat(),
        "reason": change.reason,
        "request": {"id": shot.request_id, "booking_reference": shot.booking_reference,
                    "state": shot.request_state, "exam_code": shot.exam_code,
                    "priority": shot.priority, "placer_system": shot.placer_system,
                    "placer_order_number": shot.placer_order_number},
        "appointment": None if appointment is None else {
            "id": appointment.id, "state": str(appointment.state),
            "start": appointment.start_at.isoformat() if appointment.start_at else None,
            "end": appointment.end_at.isoformat() if appointment.end_at else None,
            "room_id": appointment.room_id},
        "worklist": None if shot.worklist is None else {
            "accession_number": shot.worklist.accession_number,
            "study_instance_uid": shot.worklist.study_instance_uid},
    }


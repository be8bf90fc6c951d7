"""Status out in each protocol: SIU for every booking change (S12, S13, S15, S26), FHIR Task
for request states, signed webhooks (HMAC of the body); a receiver refusing for good makes a
dead letter kept for staff, and a cancelled hold tells nobody."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from sqlalchemy import select

from booking_api.appointments.flows import reschedule
from booking_api.appointments.services import (
    book_slot,
    cancel_appointment,
    hold_slot,
    record_outcome,
)
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import Database
from booking_api.interop.delivery import SIGNATURE_HEADER, DeliveryPolicy, OutboundWorker
from booking_api.interop.models import (
    OutboundMessage,
    OutboundState,
    Protocol,
    Subscriber,
    SubscriberScope,
)
from domain.lifecycle import AppointmentState
from tests.booking_api.booking_world import _diary, add_patients
from tests.booking_api.interop.receivers import mllp_receiver

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CLERK = Actor("clerk:test", Channel.CLERK, role="clerk")
QUICK = DeliveryPolicy(base_delay_s=0.1, max_delay_s=0.2, timeout_s=2.0)
SECRET = "whsec-test-only"


def _world(db: Database) -> tuple[list[int], list[int]]:
    with db.transaction() as session:
        slots = _diary(session, "S1-XR1", "S1", 6, 10)
        _, requests = add_patients(session, 2, "XCHES")
    return slots, requests


def _subscribe(db: Database, protocol: Protocol, endpoint: str) -> None:
    with db.transaction() as session:
        session.add(Subscriber(name=f"sub-{protocol}", protocol=protocol, endpoint=endpoint,
                               secret=SECRET, scope=SubscriberScope.ALL))


def _drain(db: Database) -> None:
    worker = OutboundWorker(db, lambda: datetime.now(UTC) + timedelta(hours=1), QUICK)
    while worker.drain_once():
        pass


class _Recorder(BaseHTTPRequestHandler):
    status = 204
    posts: ClassVar[list[tuple[str, dict, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append((self.path, dict(self.headers), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


@contextmanager
def http_receiver(status: int = 204) -> Iterator[type[_Recorder]]:
    handler = type("Recorder", (_Recorder,), {"status": status, "posts": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_every_booking_change_is_told_as_its_siu_event(interop_db: Database) -> None:
    slots, requests = _world(interop_db)
    with mllp_receiver() as receiver:
        _subscribe(interop_db, Protocol.HL7V2, f"127.0.0.1:{receiver.port}")
        with interop_db.transaction() as session:
            first = book_slot(session, CLERK, requests[0], slots[0], now=NOW)
        with interop_db.transaction() as session:
            moved = reschedule(session, CLERK, first.id, slots[2], reason="patient asked",
                               now=NOW)
        with interop_db.transaction() as session:
            cancel_appointment(session, CLERK, moved.id, "no longer needed", now=NOW)
        with interop_db.transaction() as session:
            second = book_slot(session, CLERK, requests[1], slots[4], now=NOW)
        with interop_db.transaction() as session:
            record_outcome(session, CLERK, second.id, AppointmentState.DNA,
                           now=NOW + timedelta(days=7))
        _drain(interop_db)

    by_patient: dict[str, list[str]] = {}
    for message in receiver.messages:
        header, pid = message.split("\r")[0], _segment(message, "PID")
        if header.split("|")[8].startswith("SIU"):
            by_patient.setdefault(pid.split("|")[3], []).append(header.split("|")[8][4:7])
    assert sorted(by_patient.values()) == [["S12", "S13", "S15"], ["S12", "S26"]]


def _segment(message: str, name: str) -> str:
    return next(line for line in message.split("\r") if line.startswith(name + "|"))


def test_a_cancelled_hold_tells_nobody(interop_db: Database) -> None:
    slots, requests = _world(interop_db)
    _subscribe(interop_db, Protocol.WEBHOOK, "http://127.0.0.1:9/unused")
    with interop_db.transaction() as session:
        held = hold_slot(session, CLERK, requests[0], slots[0], now=NOW, hold_minutes=10)
    with interop_db.transaction() as session:
        cancel_appointment(session, CLERK, held.id, "patient chose another time", now=NOW)

    with interop_db.reading() as session:
        assert session.scalars(select(OutboundMessage)).all() == []


def test_a_webhook_is_signed_with_hmac_of_its_body(interop_db: Database) -> None:
    slots, requests = _world(interop_db)
    with http_receiver() as receiver:
        _subscribe(interop_db, Protocol.WEBHOOK, receiver.url + "/events")
        with interop_db.transaction() as session:
            book_slot(session, CLERK, requests[0], slots[0], now=NOW)
        _drain(interop_db)

    kinds = []
    for path, headers, body in receiver.posts:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert path == "/events" and headers[SIGNATURE_HEADER] == f"sha256={expected}"
        kinds.append(json.loads(body)["type"])
    assert kinds == ["appointment.booked", "request.appointed"]


def test_a_fhir_subscriber_gets_an_appointment_and_a_task(interop_db: Database) -> None:
    slots, requests = _world(interop_db)
    with http_receiver(201) as receiver:
        _subscribe(interop_db, Protocol.FHIR, receiver.url + "/fhir")
        with interop_db.transaction() as session:
            book_slot(session, CLERK, requests[0], slots[0], now=NOW)
        _drain(interop_db)

    posted = [(path, json.loads(body)) for path, _, body in receiver.posts]
    assert [path for path, _ in posted] == ["/fhir/Appointment", "/fhir/Task"]
    assert posted[0][1]["status"] == "booked"
    assert posted[1][1]["status"] == "in-progress"
    assert posted[1][1]["focus"]["reference"] == f"ServiceRequest/{requests[0]}"


def test_a_message_refused_for_good_is_kept_as_a_dead_letter(interop_db: Database) -> None:
    slots, requests = _world(interop_db)
    with http_receiver(400) as receiver:
        _subscribe(interop_db, Protocol.WEBHOOK, receiver.url)
        with interop_db.transaction() as session:
            book_slot(session, CLERK, requests[0], slots[0], now=NOW)
        _drain(interop_db)

    with interop_db.reading() as session:
        rows = session.scalars(select(OutboundMessage)).all()
    assert rows and {r.state for r in rows} == {OutboundState.DEAD}
    assert all("HTTP 400" in r.last_error for r in rows)


def test_a_reschedule_moves_the_worklist_step_and_keeps_the_accession_number(
        interop_db: Database) -> None:
    from booking_api.interop.models import WorklistEntry

    slots, requests = _world(interop_db)
    with interop_db.transaction() as session:
        first = book_slot(session, CLERK, requests[0], slots[0], now=NOW)
    with interop_db.reading() as session:
        before = session.scalars(select(WorklistEntry)).one()
    with interop_db.transaction() as session:
        moved = reschedule(session, CLERK, first.id, slots[3], reason="patient asked",
                           now=NOW)
    with interop_db.reading() as session:
        after = session.scalars(select(WorklistEntry)).one()

    assert (after.accession_number, after.study_instance_uid) == \
        (before.accession_number, before.study_instance_uid)
    assert after.appointment_id == moved.id and after.scheduled_step_id != \
        before.scheduled_step_id
    assert after.scheduled_start > before.scheduled_start and after.modality == "XR"

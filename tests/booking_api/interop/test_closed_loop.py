"""The closed loop: an order in over HL7 → vetting → appointable → booked through the
service → SIU S12 out (with the worklist's accession number) → attended → status out; and
nothing lost while the receiving end is down for a stretch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from booking_api.appointments.services import book_slot, record_outcome
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import Database
from booking_api.interop.delivery import DeliveryPolicy, OutboundWorker
from booking_api.interop.hl7_inbound import handle_hl7
from booking_api.interop.models import (
    OutboundMessage,
    OutboundState,
    Protocol,
    Subscriber,
    SubscriberScope,
    WorklistEntry,
)
from booking_api.requests.flows import VettingProtocol, justify_request
from booking_api.requests.models import Request
from domain.lifecycle import AppointmentState, RequestState
from domain.vocabulary import Priority
from tests.booking_api.booking_world import DIARY_DAY, _diary
from tests.booking_api.interop.conftest import hl7_fixture
from tests.booking_api.interop.receivers import mllp_receiver

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
VETTER = Actor("vetting:dr-rad", Channel.CLERK, role="vetting")
CLERK = Actor("clerk:test", Channel.CLERK, role="clerk")
QUICK = DeliveryPolicy(base_delay_s=1.0, max_delay_s=2.0, timeout_s=2.0)


def _subscribe(db: Database, port: int) -> None:
    with db.transaction() as session:
        session.add(Subscriber(name="ris", protocol=Protocol.HL7V2,
                               endpoint=f"127.0.0.1:{port}", scope=SubscriberScope.OWN_ORDERS,
                               placer_system="ICE"))


def _order_to_booking(db: Database, control_ids) -> tuple[int, int]:
    handle_hl7(db, hl7_fixture("orm_o01_new.hl7"), NOW, control_ids)
    with db.transaction() as session:
        request_id = session.scalars(select(Request.id)).one()
        justify_request(session, request_id, VettingProtocol(
            exam_code="XCHES", protocol="PA chest", contrast=False, sedation=False,
            priority=Priority.ROUTINE), VETTER, today=NOW.date())
        slot_id = _diary(session, "S1-XR1", "S1", 3, 10)[0]
    with db.transaction() as session:
        appointment = book_slot(session, CLERK, request_id, slot_id, now=NOW)
    return request_id, appointment.id or 0


def wall_clock() -> datetime:
    """Rows fall due by the wall clock they were written at (the outbox's own time)."""
    return datetime.now(UTC)


def _drain(db: Database, clock) -> None:
    worker = OutboundWorker(db, clock, QUICK)
    while worker.drain_once():
        pass


def test_an_order_is_told_back_at_every_step_to_attendance(interop_db: Database,
                                                           control_ids) -> None:
    with mllp_receiver() as receiver:
        _subscribe(interop_db, receiver.port)
        request_id, appointment_id = _order_to_booking(interop_db, control_ids)
        with interop_db.transaction() as session:
            record_outcome(session, CLERK, appointment_id, AppointmentState.ATTENDED,
                           now=datetime.combine(DIARY_DAY, datetime.min.time(), tzinfo=UTC)
                           + timedelta(hours=10))
        _drain(interop_db, wall_clock)

    assert receiver.types() == ["ORR^O02^ORR_O02"] * 3 + ["SIU^S12^SIU_S12",
                                                          "ORR^O02^ORR_O02",
                                                          "ORR^O02^ORR_O02",
                                                          "SIU^S14^SIU_S12"]
    states = [m.split("ORC|")[1].split("|")[4] for m in receiver.messages if "ORC|" in m]
    assert states == ["IP", "IP", "IP", "SC", "CM"]
    with interop_db.reading() as session:
        entry = session.scalars(select(WorklistEntry)).one()
        request = session.get(Request, request_id)
    s12 = receiver.messages[3]
    assert f"|{entry.accession_number}^CDIP|" in s12 and "PO1001^ICE" in s12
    assert entry.study_instance_uid.startswith("2.25.") and entry.modality == "XR"
    assert request.state is RequestState.ATTENDED


def test_nothing_is_lost_while_the_receiving_end_is_down(interop_db: Database,
                                                         control_ids) -> None:
    with mllp_receiver() as receiver:
        port = receiver.port
    _subscribe(interop_db, port)  # the port is closed now: the receiver is down
    _order_to_booking(interop_db, control_ids)
    clock = [wall_clock()]
    for _ in range(3):  # a stretch of failed attempts
        _drain(interop_db, lambda: clock[0])
        clock[0] += timedelta(seconds=5)
    with interop_db.reading() as session:
        waiting = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    assert waiting and all(m.state is OutboundState.PENDING for m in waiting)
    assert waiting[0].attempts >= 1 and waiting[0].last_error
    assert all(m.attempts == 0 for m in waiting[1:])  # later ones wait their turn

    with mllp_receiver(port) as receiver:
        for _ in range(3):
            clock[0] += timedelta(seconds=5)
            _drain(interop_db, lambda: clock[0])

    with interop_db.reading() as session:
        rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    assert [r.state for r in rows] == [OutboundState.SENT] * len(rows)
    sent = [m.split("\r", 1)[0].split("|")[9] for m in receiver.messages]
    assert sent == [r.control_id for r in rows]  # each once, in order


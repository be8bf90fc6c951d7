"""Orders in over HL7 v2.5.1: a new order becomes a received request, a cancel and a change
act on it, a resend is processed once, and every malformed message is answered with the NAK
naming the segment and field at fault, changing nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from booking_api.core.db import Database
from booking_api.interop.hl7_inbound import handle_hl7
from booking_api.interop.models import HeldOrder, InboundMessage, PlacerOrder
from booking_api.patients.models import Patient
from booking_api.requests.models import Request, RequestEvent
from domain.lifecycle import RequestState
from domain.vocabulary import Priority
from tests.booking_api.interop.conftest import count_rows, hl7_fixture

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _segments(ack: str) -> dict[str, list[str]]:
    return {line.split("|")[0]: line.split("|") for line in ack.split("\r") if line}


def _send(db: Database, name: str, control_ids) -> dict[str, list[str]]:
    return _segments(handle_hl7(db, hl7_fixture(name), NOW, control_ids))


def _requests(db: Database) -> list[Request]:
    with db.reading() as session:
        return list(session.scalars(select(Request).order_by(Request.id)))


def test_a_new_order_becomes_a_received_request_for_the_nhs_numbers_patient(
        interop_db: Database, control_ids) -> None:
    ack = _send(interop_db, "orm_o01_new.hl7", control_ids)

    assert ack["MSA"][1:3] == ["AA", "ICE000101"]
    [request] = _requests(interop_db)
    assert request.state is RequestState.RECEIVED and request.exam_code == "XCHES"
    assert request.clinical_question == "Cough for six weeks; smoker; ?lung lesion"
    assert "Alan Jones (G8123456)" in request.referrer
    with interop_db.reading() as session:
        patient = session.get(Patient, request.patient_id)
        events = session.scalars(select(RequestEvent.to_state)).all()
    assert (patient.nhs_number, patient.family_name, patient.postcode) == \
        ("9990000018", "Smith", "B15 2TH")
    assert events == [RequestState.RECEIVED]


def test_an_omi_order_maps_a_local_code_and_reads_the_priority_from_tq1(
        interop_db: Database, control_ids) -> None:
    ack = _send(interop_db, "omi_o23_new.hl7", control_ids)

    assert ack["MSA"][1] == "AA"
    [request] = _requests(interop_db)
    assert (request.exam_code, request.priority) == ("MBRAI", Priority.TWO_WEEK_WAIT)


def test_a_resent_message_is_answered_alike_and_processed_once(
        interop_db: Database, control_ids) -> None:
    first = handle_hl7(interop_db, hl7_fixture("orm_o01_new.hl7"), NOW, control_ids)
    again = handle_hl7(interop_db, hl7_fixture("orm_o01_new.hl7").replace(
        "20261201090000", "20261201091500"), NOW, control_ids)

    assert again == first
    assert len(_requests(interop_db)) == 1
    assert count_rows(interop_db, InboundMessage) == 1


def test_copies_sent_at_once_are_processed_once_and_answered_alike(
        interop_db: Database) -> None:
    copies, ready = 6, threading.Barrier(6)
    message = hl7_fixture("orm_o01_new.hl7")

    def send(number: int) -> str:
        ready.wait()
        return handle_hl7(interop_db, message, NOW, lambda: f"ACK{number}")

    with ThreadPoolExecutor(copies) as pool:
        acks = list(pool.map(send, range(copies)))

    assert len(set(acks)) == 1 and "|AA|" in acks[0]
    assert len(_requests(interop_db)) == 1
    assert count_rows(interop_db, InboundMessage) == 1
    assert count_rows(interop_db, PlacerOrder) == 1


def test_a_control_id_reused_for_another_message_is_rejected(
        interop_db: Database, control_ids) -> None:
    _send(interop_db, "orm_o01_new.hl7", control_ids)
    reused = hl7_fixture("orm_o01_unmapped_code.hl7").replace("ICE000301", "ICE000101")

    ack = _segments(handle_hl7(interop_db, reused, NOW, control_ids))

    assert ack["MSA"][1] == "AR" and ack["ERR"][2] == "MSH^1^10^1"
    assert count_rows(interop_db, PlacerOrder) == 1


def test_a_cancel_cancels_the_request(interop_db: Database, control_ids) -> None:
    _send(interop_db, "orm_o01_new.hl7", control_ids)

    ack = _send(interop_db, "orm_o01_cancel.hl7", control_ids)

    assert ack["MSA"][1] == "AA"
    [request] = _requests(interop_db)
    assert request.state is RequestState.CANCELLED


def test_a_change_raises_the_priority_and_updates_the_question(
        interop_db: Database, control_ids) -> None:
    _send(interop_db, "orm_o01_new.hl7", control_ids)

    ack = _send(interop_db, "orm_o01_change.hl7", control_ids)

    assert ack["MSA"][1] == "AA"
    [request] = _requests(interop_db)
    assert request.priority is Priority.URGENT
    assert request.clinical_question == "Haemoptysis since the first request"


def test_an_unmapped_code_is_held_for_a_clerk_never_dropped(
        interop_db: Database, control_ids) -> None:
    ack = _send(interop_db, "orm_o01_unmapped_code.hl7", control_ids)

    assert ack["MSA"][1] == "AA" and "held for a clerk" in ack["MSA"][3]
    assert _requests(interop_db) == []
    with interop_db.reading() as session:
        [held] = session.scalars(select(HeldOrder)).all()
    assert held.needs_exam and not held.needs_patient
    assert "RXSCAPH" in held.reason


def test_a_cancel_for_an_order_never_received_names_the_placer_order_number(
        interop_db: Database, control_ids) -> None:
    ack = _send(interop_db, "orm_o01_cancel.hl7", control_ids)

    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == "ORC^1^2^1"
    assert ack["ERR"][3].startswith("204^")


@pytest.mark.parametrize(("fixture", "ack_code", "location", "error", "words"), [
    ("orm_o01_no_msh.hl7", "AR", "MSH^1", "100", "MSH"),
    ("orm_o01_bad_nhs_number.hl7", "AE", "PID^1^3^1^1", "102", "modulus-11"),
    ("orm_o01_bad_birth_date.hl7", "AE", "PID^1^7^1", "102", "date of birth"),
    ("orm_o01_unknown_system.hl7", "AE", "OBR^1^4^1^3", "103", "CPT"),
    ("public_machete_orm_o01_v2_3.hl7", "AR", "MSH^1^12^1", "203", "2.3"),
])
def test_a_malformed_message_gets_a_nak_naming_the_field_and_changes_nothing(
        interop_db: Database, control_ids, fixture: str, ack_code: str, location: str,
        error: str, words: str) -> None:
    ack = _send(interop_db, fixture, control_ids)

    assert ack["MSA"][1] == ack_code
    assert ack["ERR"][2] == location
    assert ack["ERR"][3].split("^")[0] == error
    assert words in ack["ERR"][8]
    assert _requests(interop_db) == []
    assert count_rows(interop_db, Patient) == 0
    assert count_rows(interop_db, PlacerOrder) == 0


@pytest.mark.parametrize(("segment", "location"), [
    ("PID", "PID^1"), ("ORC", "ORC^1"), ("OBR", "OBR^1")])
def test_a_missing_segment_is_named(interop_db: Database, control_ids, segment: str,
                                    location: str) -> None:
    message = "\r".join(line for line in hl7_fixture("orm_o01_new.hl7").splitlines()
                        if not line.startswith(segment + "|"))

    ack = _segments(handle_hl7(interop_db, message, NOW, control_ids))

    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == location
    assert _requests(interop_db) == []


@pytest.mark.parametrize(("old", "new", "location"), [
    ("SMITH^JANE", "^JANE", "PID^1^5^1^1"),
    ("SMITH^JANE", "SMITH", "PID^1^5^1^2"),
    ("|19800115|", "||", "PID^1^7^1"),
    ("ORC|NW|PO1001^ICE", "ORC|ZZ|PO1001^ICE", "ORC^1^1^1"),
    ("^^^^^R", "^^^^^Q", "OBR^1^27^1^6"),
    ("XCHES^X-ray chest^NICIP", "^X-ray chest^NICIP", "OBR^1^4^1^1"),
])
def test_a_missing_or_mistyped_field_is_named(interop_db: Database, control_ids, old: str,
                                              new: str, location: str) -> None:
    message = hl7_fixture("orm_o01_new.hl7").replace(old, new, 1)

    ack = _segments(handle_hl7(interop_db, message, NOW, control_ids))

    assert ack["MSA"][1] == "AE" and ack["ERR"][2] == location
    assert _requests(interop_db) == []


def test_an_order_over_mllp_is_acknowledged_on_the_same_connection(
        interop_db: Database) -> None:
    import asyncio
    import threading

    from booking_api.interop.hl7.mllp import MllpClient
    from booking_api.interop.mllp_service import run_mllp

    bound: dict[str, int] = {}
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    def started(port: int) -> None:
        bound["port"] = port
        ready.set()

    task = loop.create_task(run_mllp(interop_db, lambda: NOW, "127.0.0.1", 0, 2, started))

    def listen() -> None:
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            pass  # stopped by the test
        finally:
            loop.close()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    try:
        assert ready.wait(10)
        with MllpClient("127.0.0.1", bound["port"]) as mllp:
            first = mllp.send(hl7_fixture("orm_o01_new.hl7"))
            second = mllp.send(hl7_fixture("omi_o23_new.hl7"))
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)

    assert "\rMSA|AA|ICE000101" in first and "\rMSA|AA|ICE000201" in second
    assert len(_requests(interop_db)) == 2


@pytest.mark.parametrize(("old", "new", "location"), [
    ("SMITH^JANE", "SMI\x00TH^JANE", "PID^1^5^1"),
    ("Cough for six weeks", "Cough\x00 for six weeks", "OBR^1^13^1"),
    ("|ICE|RQ3|", "|I\x00CE|RQ3|", "MSH^1^3^1"),
    ("SMITH^JANE", "SMITH\x07^JANE", "PID^1^5^1"),
], ids=["nul-in-name", "nul-in-question", "nul-in-header", "bell-in-name"])
def test_a_control_character_in_a_field_is_named_and_stores_nothing(
        interop_db: Database, control_ids, old: str, new: str, location: str) -> None:
    message = hl7_fixture("orm_o01_new.hl7").replace(old, new, 1)

    ack = _segments(handle_hl7(interop_db, message, NOW, control_ids))

    assert ack["MSA"][1] == "AR" and ack["ERR"][2] == location
    assert ack["ERR"][3].split("^")[0] == "102"
    assert _requests(interop_db) == []
    assert count_rows(interop_db, InboundMessage) == 0


def test_a_new_order_for_a_new_patient_takes_seven_statements(
        interop_db: Database, control_ids) -> None:
    """Throughput guard (issue 21): each round trip is CPU on the two cores the listeners and
    PostgreSQL share. Seven, once the process holds the code map (the first order read it):
    one look-up (placer order known? the patient by NHS number and the look-alikes, the
    settings stamp); the patient (its area found inside the INSERT); the request with its
    first event (two on SQLite); the placer order; the control id claimed with its ACK; the
    status snapshot (the stamp beside it says the copy of the subscribers holds: none); the
    audit row. SQLite adds its BEGIN IMMEDIATE."""
    handle_hl7(interop_db, hl7_fixture("orm_o01_new.hl7"), NOW, control_ids)
    second = (hl7_fixture("orm_o01_new.hl7").replace("ICE000101", "ICE000102")
              .replace("PO1001", "PO1002").replace("9990000018", "9990005001")
              .replace("SMITH^JANE", "JONES^MARY"))
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(interop_db.engine, "before_cursor_execute", count)
    try:
        ack = _segments(handle_hl7(interop_db, second, NOW, control_ids))
    finally:
        event.remove(interop_db.engine, "before_cursor_execute", count)

    assert ack["MSA"][1] == "AA"
    assert len(statements) == (9 if interop_db.kind == "sqlite" else 7), statements

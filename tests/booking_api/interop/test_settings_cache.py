"""A process keeps copies of the order-code map and of the subscribers (`settings_cache`), and
the next message after a change uses the change, whoever made it: another listener process,
a tool, plain SQL. Here the changes are plain SQL on a connection of their own, outside every
code path of the service, as another process's would be."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text

from booking_api.core.db import Database
from booking_api.interop.hl7_inbound import handle_hl7
from booking_api.interop.models import HeldOrder, OutboundMessage
from booking_api.requests.models import Request
from tests.booking_api.interop.conftest import count_rows, hl7_fixture

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NHS_NUMBERS = ("9990005001", "9990005028", "9990005036")


def _order(fixture: str, number: int) -> str:
    """The fixture as a new order of its own: control id, placer order and patient."""
    return (hl7_fixture(fixture).replace("|P|2.5.1", f"{number}|P|2.5.1", 1)
            .replace("^ICE|", f"{number}^ICE|").replace("9990000018", NHS_NUMBERS[number])
            .replace("SMITH^JANE", f"PATIENT{number}^GIVEN{number}"))


def _elsewhere(db: Database, statement: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(statement))


def _ack_code(ack: str) -> str:
    return ack.split("\r")[1].split("|")[1]


def test_a_code_mapped_elsewhere_maps_the_next_order(interop_db: Database,
                                                     control_ids) -> None:
    first = handle_hl7(interop_db, _order("orm_o01_unmapped_code.hl7", 0), NOW, control_ids)
    assert _ack_code(first) == "AA" and "held for a clerk" in first

    _elsewhere(interop_db, "INSERT INTO order_code_map (code_system, code, exam_code, display) "
                           "VALUES ('ICE', 'RXSCAPH', 'XKNEE', 'Scaphoid views')")
    second = handle_hl7(interop_db, _order("orm_o01_unmapped_code.hl7", 1), NOW, control_ids)

    assert _ack_code(second) == "AA" and "received" in second
    with interop_db.reading() as session:
        assert session.scalars(select(Request.exam_code)).all() == ["XKNEE"]
    assert count_rows(interop_db, HeldOrder) == 1


def test_a_mapping_changed_elsewhere_changes_the_next_orders_exam(
        interop_db: Database, control_ids) -> None:
    handle_hl7(interop_db, _order("orm_o01_new.hl7", 0), NOW, control_ids)

    _elsewhere(interop_db, "UPDATE order_code_map SET exam_code = 'XKNEE' "
                           "WHERE code_system = 'NICIP' AND code = 'XCHES'")
    handle_hl7(interop_db, _order("orm_o01_new.hl7", 1), NOW, control_ids)

    with interop_db.reading() as session:
        exams = session.scalars(select(Request.exam_code).order_by(Request.id)).all()
    assert exams == ["XCHES", "XKNEE"]


def test_a_subscriber_added_elsewhere_hears_the_next_order(interop_db: Database,
                                                           control_ids) -> None:
    handle_hl7(interop_db, _order("orm_o01_new.hl7", 0), NOW, control_ids)
    assert count_rows(interop_db, OutboundMessage) == 0

    _elsewhere(interop_db, "INSERT INTO interop_subscriber (name, protocol, endpoint, scope, "
                           "placer_system, active, created_at) VALUES ('ice', 'hl7v2', "
                           "'127.0.0.1:9', 'own_orders', 'ICE', TRUE, CURRENT_TIMESTAMP)")
    handle_hl7(interop_db, _order("orm_o01_new.hl7", 1), NOW, control_ids)

    assert count_rows(interop_db, OutboundMessage) == 1


def test_a_subscriber_stopped_elsewhere_hears_no_more(interop_db: Database,
                                                      control_ids) -> None:
    _elsewhere(interop_db, "INSERT INTO interop_subscriber (name, protocol, endpoint, scope, "
                           "placer_system, active, created_at) VALUES ('ice', 'hl7v2', "
                           "'127.0.0.1:9', 'own_orders', 'ICE', TRUE, CURRENT_TIMESTAMP)")
    handle_hl7(interop_db, _order("orm_o01_new.hl7", 0), NOW, control_ids)
    assert count_rows(interop_db, OutboundMessage) == 1

    _elsewhere(interop_db, "UPDATE interop_subscriber SET active = FALSE")
    handle_hl7(interop_db, _order("orm_o01_new.hl7", 1), NOW, control_ids)

    assert count_rows(interop_db, OutboundMessage) == 1

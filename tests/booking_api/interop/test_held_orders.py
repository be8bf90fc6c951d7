"""The clerk's queue: a held order becomes a request once a clerk decides; the decisions
that would attach an order to the wrong person are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import Database
from booking_api.core.errors import BookingError
from booking_api.interop.held_orders import Resolution, open_held_orders, resolve_held_order
from booking_api.interop.hl7_inbound import handle_hl7
from booking_api.interop.incoming import OrderCode
from booking_api.interop.order_codes import exam_for
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from tests.booking_api.interop.conftest import hl7_fixture

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CLERK = Actor("clerk:test", Channel.CLERK, role="clerk")


def _held_id(db: Database) -> int:
    with db.reading() as session:
        return open_held_orders(session)[0].id


def _resolve(db: Database, decision: Resolution) -> int:
    with db.transaction() as session:
        return resolve_held_order(session, _held_id(db), decision, CLERK, NOW)


def test_an_unmapped_code_resolved_with_an_exam_becomes_a_request_and_is_remembered(
        interop_db: Database, control_ids) -> None:
    handle_hl7(interop_db, hl7_fixture("orm_o01_unmapped_code.hl7"), NOW, control_ids)

    request_id = _resolve(interop_db, Resolution("scaphoid views are a wrist X-ray here",
                                                 exam_code="XKNEE", remember_mapping=True))

    with interop_db.reading() as session:
        assert session.get(Request, request_id).exam_code == "XKNEE"
        assert exam_for(session, OrderCode("ICE", "RXSCAPH")) == "XKNEE"
        assert open_held_orders(session) == []


def _hold_for_likeness(db: Database, control_ids) -> int:
    with db.transaction() as session:
        twin = Patient(given_name="Jane", family_name="Smith",
                       date_of_birth=date(1980, 1, 15), postcode_district="B15")
        session.add(twin)
        session.flush()
        twin_id = twin.id
    handle_hl7(db, hl7_fixture("orm_o01_new.hl7"), NOW, control_ids)
    return twin_id


def test_a_likeness_resolved_as_the_existing_patient_books_for_them(
        interop_db: Database, control_ids) -> None:
    twin_id = _hold_for_likeness(interop_db, control_ids)

    request_id = _resolve(interop_db, Resolution("confirmed by phone with the GP practice",
                                                 patient_id=twin_id))

    with interop_db.reading() as session:
        assert session.get(Request, request_id).patient_id == twin_id


@pytest.mark.parametrize(("decision", "field"), [
    (Resolution("", new_patient=True), "reason"),
    (Resolution("unsure"), "patient_id"),
    (Resolution("both", patient_id=1, new_patient=True), "patient_id"),
    (Resolution("nobody", patient_id=999999), "patient_id"),
])
def test_a_bad_decision_is_refused_naming_the_field_and_changes_nothing(
        interop_db: Database, control_ids, decision: Resolution, field: str) -> None:
    _hold_for_likeness(interop_db, control_ids)

    with pytest.raises(BookingError) as refused:
        _resolve(interop_db, decision)

    assert refused.value.field == field
    with interop_db.reading() as session:
        assert session.scalars(select(Request)).all() == []
        assert len(open_held_orders(session)) == 1


def test_a_patient_with_another_nhs_number_is_never_chosen(interop_db: Database,
                                                          control_ids) -> None:
    with interop_db.transaction() as session:
        other = Patient(given_name="Jane", family_name="Smith", nhs_number="9990000026",
                        date_of_birth=date(1980, 1, 15), postcode_district="B15")
        session.add(other)
        session.flush()
        other_id = other.id
    handle_hl7(interop_db, hl7_fixture("orm_o01_new.hl7"), NOW, control_ids)

    with pytest.raises(BookingError, match="another NHS number"):
        _resolve(interop_db, Resolution("looks like her", patient_id=other_id))

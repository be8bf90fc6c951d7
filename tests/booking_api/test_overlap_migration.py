"""Migration 0012 on a database where one patient already has overlapping live
appointments: it keeps both, marks the later with a reason a clerk can search for, and (on
PostgreSQL) makes the exclusion constraint all the same."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from booking_api.appointments import services
from booking_api.appointments.models import Appointment
from booking_api.core import migrate
from booking_api.core.db import transaction
from booking_api.database import open_engine
from domain.lifecycle import AppointmentState
from tests.booking_api.booking_world import CLERK, NOW, add_request, build_world

REVISION = "0012_patient_overlap_read_audit"


@pytest.fixture
def engine(migrated_url: str):
    engine = open_engine(migrated_url)
    yield engine
    engine.dispose()


def test_existing_overlaps_are_kept_and_marked_and_the_rule_applies_after(
        engine: Engine, migrated_url: str, tiny_network, tiny_catalogue) -> None:
    world = build_world(engine, tiny_network, tiny_catalogue, patients=1)
    other = add_request(engine, world.patients[0])
    with transaction(engine) as session:
        first = services.book_slot(session, CLERK, world.requests[0],
                                   world.slots["S1-XR1"][0], now=NOW)
        session.add(Appointment(
            request_id=other, slot_id=world.slots["S2-XR1"][0], patient_id=world.patients[0],
            channel=CLERK.channel, state=AppointmentState.BOOKED, room_id="S2-XR1",
            start_at=first.start_at, end_at=first.end_at, overlap_reason="made before 0012"))
    engine.dispose()

    migrate.downgrade(migrated_url, f"{REVISION}-1")  # as the database was before the rule
    migrate.upgrade(migrated_url)

    with engine.connect() as connection:
        reasons = connection.execute(text(
            "SELECT id, overlap_reason FROM appointment ORDER BY id")).all()
    assert reasons[0] == (first.id, None)
    assert reasons[1][1].startswith("found overlapping another of the patient's appointments")
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError) as refused, transaction(engine) as session:
            session.execute(text("UPDATE appointment SET overlap_reason = NULL"))
        assert refused.value.orig.sqlstate == "23P01"

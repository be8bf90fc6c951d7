"""The migrations build the whole schema on an empty database of each kind, agree with the
models, and the database itself refuses a second active appointment on one slot."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from booking_api.appointments.models import ONE_ACTIVE_APPOINTMENT_PER_SLOT, Appointment
from booking_api.core import migrate
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.tables import metadata
from domain.lifecycle import AppointmentState


def _appointment(ids: dict[str, int], request: str, state: AppointmentState) -> Appointment:
    return Appointment(request_id=ids[request], patient_id=ids["patient"], slot_id=ids["slot"],
                       state=state, channel=Channel.CLERK)


def test_upgrade_creates_every_table_on_an_empty_database(database_url: str) -> None:
    migrate.upgrade(database_url)

    engine = open_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
    assert tables == set(metadata.tables) | {"alembic_version"}


def test_migrations_and_models_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)

    assert differences == []


def test_partial_unique_index_exists_on_the_slot_of_active_appointments(engine: Engine) -> None:
    indexes = {ix["name"]: ix for ix in inspect(engine).get_indexes("appointment")}

    assert indexes[ONE_ACTIVE_APPOINTMENT_PER_SLOT]["unique"]
    assert indexes[ONE_ACTIVE_APPOINTMENT_PER_SLOT]["column_names"] == ["slot_id"]


@pytest.mark.parametrize("second_state", [AppointmentState.HELD, AppointmentState.BOOKED])
def test_second_active_appointment_on_a_slot_is_refused(
    engine: Engine, one_slot: dict[str, int], second_state: AppointmentState
) -> None:
    with transaction(engine) as session:
        session.add(_appointment(one_slot, "request_a", AppointmentState.BOOKED))

    with pytest.raises(IntegrityError) as refused, transaction(engine) as session:
        session.add(_appointment(one_slot, "request_b", second_state))
    culprit = {"sqlite": "appointment.slot_id", "postgresql": ONE_ACTIVE_APPOINTMENT_PER_SLOT}
    assert culprit[engine.dialect.name] in str(refused.value)


def test_cancelled_appointment_leaves_the_slot_free_for_an_active_one(
    engine: Engine, one_slot: dict[str, int]
) -> None:
    with transaction(engine) as session:
        session.add(_appointment(one_slot, "request_a", AppointmentState.CANCELLED))
    with transaction(engine) as session:
        session.add(_appointment(one_slot, "request_b", AppointmentState.BOOKED))
        session.add(_appointment(one_slot, "request_a", AppointmentState.CANCELLED))

    with transaction(engine) as session:
        states = sorted(a.state for a in session.exec(select(Appointment)))
    assert states == ["booked", "cancelled", "cancelled"]


def test_downgrade_to_base_then_upgrade_rebuilds_the_schema(migrated_url: str) -> None:
    migrate.downgrade(migrated_url, "base")
    engine = open_engine(migrated_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(migrated_url)
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

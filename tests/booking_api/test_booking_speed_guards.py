"""The shortcuts taken for booking speed keep their guarantees: a token whose signature was
verified once still expires and a tampered one is still refused; a pooled connection that died
while idle is replaced instead of failing the request; bookkeeping committed without waiting
for the disk is visible to every other session at once, and only bookkeeping skips the wait;
audit rows written together at commit still commit or vanish with their change; the
benchmark's client talks to loopback only; more changes than the index catches up on make it
reload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text

from booking_api.access import tokens
from booking_api.access.models import AccountRole
from booking_api.audit.models import AuditEvent
from booking_api.audit.services import record_audit
from booking_api.core import db
from booking_api.core.db import bookkeeping_transaction, make_session_factory, transaction
from booking_api.database import open_engine
from booking_api.diary.blocking import block_slot
from booking_api.search import index as search_index
from booking_api.search.index import SlotIndex
from booking_api.search.services import SearchQuery, search_slots
from cdip_bench.booking_client import LoopbackClient
from tests.booking_api.booking_world import (
    CLERK,
    NOW,
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]

SECRET = "a-test-secret-that-is-long-enough-for-signing"
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _staff_token() -> str:
    token, _expires = tokens.issue_staff_token(SECRET, "sign-in-1", 7, AccountRole.CLERK, 1,
                                               NOON, timedelta(hours=1))
    return token


def test_a_token_read_before_still_expires_on_time() -> None:
    token = _staff_token()
    assert tokens.read_staff_token(SECRET, token, NOON).staff_id == 7

    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.read_staff_token(SECRET, token, NOON + timedelta(hours=1))


def test_a_tampered_token_is_refused_after_the_genuine_one_was_read() -> None:
    token = _staff_token()
    tokens.read_staff_token(SECRET, token, NOON)
    payload, _, signature = token.rpartition(".")
    tampered = f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"

    with pytest.raises(tokens.InvalidToken, match="not a valid staff session token"):
        tokens.read_staff_token(SECRET, tampered, NOON)


def test_a_staff_token_read_before_never_passes_as_a_patient_token() -> None:
    token = _staff_token()
    tokens.read_staff_token(SECRET, token, NOON)

    with pytest.raises(tokens.InvalidToken, match="not a valid patient session token"):
        tokens.read_patient_token(SECRET, token, NOON)


@pytest.fixture
def engine(database_url: str) -> Engine:
    engine = open_engine(database_url)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_a_pooled_connection_that_died_while_idle_is_replaced(
        postgres_database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = open_engine(postgres_database_url)
    admin = open_engine(postgres_database_url)
    try:
        with engine.connect() as connection:
            victim = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
            connection.commit()
        monkeypatch.setattr(db, "IDLE_PING_S", 0.0)

        with engine.connect() as connection:
            now_serving = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()

        assert now_serving != victim
    finally:
        engine.dispose()
        admin.dispose()


def test_bookkeeping_is_visible_to_another_session_once_committed(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE tally (n INTEGER NOT NULL)"))

    with bookkeeping_transaction(engine) as connection:
        connection.execute(text("INSERT INTO tally (n) VALUES (1)"))

    with engine.connect() as other:
        assert other.execute(text("SELECT count(*) FROM tally")).scalar_one() == 1


def test_bookkeeping_that_fails_leaves_nothing_behind(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE tally (n INTEGER NOT NULL)"))

    with pytest.raises(RuntimeError), bookkeeping_transaction(engine) as connection:
        connection.execute(text("INSERT INTO tally (n) VALUES (1)"))
        raise RuntimeError("the work failed")

    with engine.connect() as other:
        assert other.execute(text("SELECT count(*) FROM tally")).scalar_one() == 0


@pytest.fixture
def postgres_engines(postgres_database_url: str) -> Iterator[tuple[Engine, Engine]]:
    """A PostgreSQL engine and its bookkeeping engine."""
    engine = open_engine(postgres_database_url)
    bookkeeping = db.make_bookkeeping_engine(engine)
    yield engine, bookkeeping
    bookkeeping.dispose()
    engine.dispose()


@pytest.mark.postgres
def test_the_bookkeeping_engine_makes_each_statement_visible_at_once(
        postgres_engines: tuple[Engine, Engine]) -> None:
    engine, bookkeeping = postgres_engines
    try:
        with bookkeeping_transaction(bookkeeping) as connection:
            connection.execute(text("CREATE TABLE tally_at_once (n INTEGER NOT NULL)"))
            connection.execute(text("INSERT INTO tally_at_once (n) VALUES (1)"))
            with engine.connect() as other:  # while the bookkeeping connection is still open
                assert other.execute(text("SELECT count(*) FROM tally_at_once")
                                     ).scalar_one() == 1
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS tally_at_once"))


@pytest.mark.postgres
def test_only_bookkeeping_connections_skip_waiting_for_the_disk(
        postgres_engines: tuple[Engine, Engine]) -> None:
    engine, bookkeeping = postgres_engines
    with bookkeeping.connect() as connection:
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "off"
    with engine.connect() as connection:  # bookings wait for the disk as ever
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"


def test_audit_rows_commit_with_their_change_and_vanish_with_its_rollback(
        booking_engine: Engine) -> None:
    with transaction(booking_engine) as session:
        record_audit(session, CLERK, "note.kept", "note", 1)
        record_audit(session, CLERK, "note.kept", "note", 2)
    with make_session_factory(booking_engine)() as session:
        record_audit(session, CLERK, "note.dropped", "note", 3)
        session.rollback()
        session.commit()  # nothing of the rolled-back work is written late

    with transaction(booking_engine) as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["note.kept", "note.kept"]


@pytest.mark.parametrize("base", ["http://example.org:80", "http://10.0.0.1:8000"])
def test_the_benchmark_client_talks_to_loopback_only(base: str) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        LoopbackClient(base, {})


def test_more_changed_slots_than_the_catch_up_bound_reload_the_index(
        booking_engine: Engine, tiny_network, tiny_catalogue,
        monkeypatch: pytest.MonkeyPatch) -> None:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, slots_per_room=4)
    index = SlotIndex(max_staleness_s=0)
    slots = world.slots["S1-XR1"]

    def offered() -> set[int]:
        with transaction(world.engine) as session:
            result = search_slots(session, index, world.requests[0], SearchQuery(), now=NOW,
                                  patient_id=world.patients[0])
        return {offer.slot_id for offer in result.slots}

    assert {slots[0], slots[1]} <= offered()
    monkeypatch.setattr(search_index, "CATCH_UP_LIMIT", 1)
    with transaction(world.engine) as session:
        block_slot(session, CLERK, slots[0], "room closed", now=NOW)
        block_slot(session, CLERK, slots[1], "room closed", now=NOW)

    assert not {slots[0], slots[1]} & offered()

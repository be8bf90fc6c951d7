"""The running service releases lapsed holds by itself, on SQLite and PostgreSQL: no request
needs to touch the slot for it to read as free again, a live hold is left alone, and a
backlog is worked through in batches."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select

from booking_api.access.models import AccountRole
from booking_api.appointments import services
from booking_api.appointments.hold_sweeper import sweep_lapsed_holds
from booking_api.appointments.models import Appointment
from booking_api.audit.models import AuditEvent
from booking_api.core.config import Settings
from booking_api.core.db import make_session_factory, transaction
from domain.lifecycle import AppointmentState
from tests.booking_api.access_support import MovableClock, add_staff, make_app, staff_headers
from tests.booking_api.booking_world import World, booking_engine, build_world, migrated_engine

__all__ = ["booking_engine", "migrated_engine"]
SWEEP_S = 0.05
HOLD_MINUTES = 10


@dataclass
class Service:
    client: TestClient
    world: World
    clock: MovableClock
    clerk: dict[str, str]

    def hold(self, index: int) -> int:
        response = self.client.post("/api/appointments/holds", json={
            "request_id": self.world.requests[index],
            "slot_id": self.world.slots["S1-XR1"][index]},
            headers={**self.clerk, "Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def slot_status(self, index: int) -> str:
        response = self.client.get(f"/api/slots/{self.world.slots['S1-XR1'][index]}",
                                   headers=self.clerk)
        return response.json()["fhir_status"]


def _service(engine: Engine, network, catalogue, sweep_s: float) -> Iterator[Service]:
    world = build_world(engine, network, catalogue, patients=3)
    clock = MovableClock()
    app = make_app(engine.url.render_as_string(hide_password=False), clock,
                   hold_sweep_seconds=sweep_s, hold_minutes=HOLD_MINUTES)
    with TestClient(app) as client:
        add_staff(engine, "cora.clerk", AccountRole.CLERK)
        yield Service(client, world, clock, staff_headers(client, "cora.clerk"))


@pytest.fixture
def service(booking_engine: Engine, tiny_network, tiny_catalogue) -> Iterator[Service]:
    yield from _service(booking_engine, tiny_network, tiny_catalogue, SWEEP_S)


@pytest.fixture
def unswept(booking_engine: Engine, tiny_network, tiny_catalogue) -> Iterator[Service]:
    """The service with its sweeper turned off (hold_sweep_seconds=0)."""
    yield from _service(booking_engine, tiny_network, tiny_catalogue, 0)


def _eventually(check: Callable[[], bool], within_s: float = 10) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(SWEEP_S)
    return False


def test_a_lapsed_hold_frees_its_slot_without_any_request_touching_it(
        service: Service) -> None:
    hold_id = service.hold(0)
    assert service.slot_status(0) == "busy-tentative"

    service.clock.advance(timedelta(minutes=HOLD_MINUTES, seconds=1))

    assert _eventually(lambda: service.slot_status(0) == "free")
    with transaction(service.world.engine) as session:
        hold = session.get(Appointment, hold_id)
        assert (hold.state, hold.cancel_reason) == (AppointmentState.CANCELLED, "hold expired")
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "appointment.hold_expired")).all()
        assert [(event.actor, event.entity_id) for event in events] == [
            ("system:hold-sweeper", str(hold_id))]


def test_a_live_hold_is_left_alone(service: Service) -> None:
    service.hold(0)
    service.clock.advance(timedelta(minutes=HOLD_MINUTES - 1))

    time.sleep(SWEEP_S * 6)  # several sweeps

    assert service.slot_status(0) == "busy-tentative"


def test_with_the_sweeper_off_a_lapsed_hold_waits_for_the_booking_path(
        unswept: Service) -> None:
    unswept.hold(0)
    unswept.clock.advance(timedelta(minutes=HOLD_MINUTES, seconds=1))

    time.sleep(SWEEP_S * 6)

    assert unswept.slot_status(0) == "busy-tentative"


def test_a_sweep_takes_at_most_its_limit_of_holds_the_oldest_first(unswept: Service) -> None:
    for index in range(3):
        unswept.hold(index)
    later = unswept.clock.now + timedelta(minutes=HOLD_MINUTES, seconds=1)

    with transaction(unswept.world.engine) as session:
        swept = services.sweep_expired_holds(session, later, limit=2)

    assert swept == 2
    assert [unswept.slot_status(index) for index in range(3)] == [
        "free", "free", "busy-tentative"]


def test_a_backlog_of_lapsed_holds_is_released_batch_by_batch(unswept: Service) -> None:
    for index in range(3):
        unswept.hold(index)
    later = unswept.clock.now + timedelta(minutes=HOLD_MINUTES, seconds=1)

    released = sweep_lapsed_holds(make_session_factory(unswept.world.engine), later, batch=2)

    assert released == 3
    assert [unswept.slot_status(index) for index in range(3)] == ["free"] * 3


def test_processes_sweeping_at_once_expire_each_hold_exactly_once(unswept: Service) -> None:
    holds = [unswept.hold(index) for index in range(3)]
    later = unswept.clock.now + timedelta(minutes=HOLD_MINUTES, seconds=1)
    factory = make_session_factory(unswept.world.engine)
    start = threading.Barrier(2)

    def sweep(_: int) -> int:
        start.wait(timeout=10)
        return sweep_lapsed_holds(factory, later, batch=1)

    with ThreadPoolExecutor(max_workers=2) as pool:
        released = list(pool.map(sweep, range(2)))

    assert sum(released) == 3
    with transaction(unswept.world.engine) as session:
        expired = session.scalars(select(AuditEvent.entity_id).where(
            AuditEvent.action == "appointment.hold_expired")).all()
    assert sorted(expired) == sorted(str(hold) for hold in holds)


def test_hold_sweep_seconds_must_not_be_negative() -> None:
    with pytest.raises(ValidationError, match="hold_sweep_seconds"):
        Settings(hold_sweep_seconds=-1)

"""A Hypothesis state machine over book, hold, reschedule, cancel, expire and override, on
SQLite and PostgreSQL. Whatever the sequence: never two active appointments on one slot or
overlapping in a room, every slot's status matches what occupies it (so every cancel frees
its slot), and exactly one appointment audit event per appointment change."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, delete, func, select
from sqlmodel import Session

from booking_api.appointments import flows, services
from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.audit.models import AuditEvent
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.core.errors import BookingError
from booking_api.requests.models import Request
from booking_api.slots.models import Slot
from booking_api.tables import metadata
from domain.lifecycle import AppointmentState, SlotStatus
from tests.booking_api.booking_world import (
    CLERK,
    NOW,
    build_world,
    migrated_engine,
)

__all__ = ["migrated_engine"]
PATIENTS = 4
VETTING = Actor("vetting:drx", Channel.CLERK, role="vetting")
EXPECTED_SLOT_STATUS = {AppointmentState.HELD: SlotStatus.BUSY_TENTATIVE,
                        AppointmentState.BOOKED: SlotStatus.BUSY}


def _snapshot(engine: Engine) -> tuple[dict, int]:
    """Every appointment's (state, hold expiry, extended) and the appointment audit count."""
    with Session(engine) as session:
        rows = {a.id: (a.state, a.held_until, a.hold_extended)
                for a in session.scalars(select(Appointment))}
        audits = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "appointment"))
    return rows, audits or 0


def _changes(before: dict, after: dict) -> int:
    return sum(1 for key, value in after.items() if before.get(key) != value)


def machine_for(engine: Engine, network, catalogue) -> type[RuleBasedStateMachine]:
    class BookingMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            with transaction(engine) as session:
                for table in reversed(metadata.sorted_tables):
                    session.execute(delete(table))
            self.world = build_world(engine, network, catalogue, patients=PATIENTS,
                                     slots_per_room=3)
            with transaction(engine) as session:  # the last patient needs an override
                session.get(Request, self.world.requests[-1]).latest_date = date(2026, 12, 5)
            self.slots = [*self.world.slots["S1-XR1"], *self.world.slots["S2-XR1"]]
            self.now = NOW

        def _do(self, operation) -> None:
            before, audits_before = _snapshot(engine)
            try:
                with transaction(engine) as session:
                    operation(session)
            except BookingError:
                pass
            after, audits_after = _snapshot(engine)
            assert audits_after - audits_before == _changes(before, after)

        def _appointment_of(self, session: Session, who: int) -> int | None:
            return session.scalar(select(Appointment.id).where(
                Appointment.request_id == self.world.requests[who],
                Appointment.state.in_(ACTIVE_STATES)))

        @rule(who=st.integers(0, PATIENTS - 1), slot=st.integers(0, 5), hold=st.booleans())
        def book(self, who: int, slot: int, hold: bool) -> None:
            actor, request = self.world.patient_actor(who), self.world.requests[who]
            if hold:
                self._do(lambda s: services.hold_slot(s, actor, request, self.slots[slot],
                                                      now=self.now, hold_minutes=10))
            else:
                self._do(lambda s: services.book_slot(s, actor, request, self.slots[slot],
                                                      now=self.now))

        @rule(who=st.integers(0, PATIENTS - 1))
        def confirm_hold(self, who: int) -> None:
            def confirm(session: Session) -> None:
                held = self._appointment_of(session, who)
                if held is not None:
                    services.book_hold(session, CLERK, held, now=self.now)
            self._do(confirm)

        @rule(who=st.integers(0, PATIENTS - 1), slot=st.integers(0, 5))
        def reschedule(self, who: int, slot: int) -> None:
            def move(session: Session) -> None:
                booked = self._appointment_of(session, who)
                if booked is not None:
                    flows.reschedule(session, CLERK, booked, self.slots[slot],
                                     reason="patient asked", now=self.now)
            self._do(move)

        @rule(who=st.integers(0, PATIENTS - 1))
        def cancel(self, who: int) -> None:
            def cancel(session: Session) -> None:
                active = self._appointment_of(session, who)
                if active is not None:
                    services.cancel_appointment(session, CLERK, active, "cannot come",
                                                now=self.now)
            self._do(cancel)

        @rule(minutes=st.integers(1, 15))
        def expire(self, minutes: int) -> None:
            self.now += timedelta(minutes=minutes)
            self._do(lambda s: services.sweep_expired_holds(s, self.now))

        @rule(slot=st.integers(0, 5))
        def override(self, slot: int) -> None:
            self._do(lambda s: flows.book_on_behalf(
                s, VETTING, self.world.requests[-1], self.slots[slot], reason="by phone",
                overrides=[flows.RuleOverride("clinical-window", "radiologist agreed")],
                now=self.now))

        @invariant()
        def never_two_occupants_and_statuses_follow_occupancy(self) -> None:
            with Session(engine) as session:
                active = list(session.scalars(select(Appointment).where(
                    Appointment.state.in_(ACTIVE_STATES))))
                slots = {s.id: s for s in session.scalars(select(Slot))}
            occupied: dict[int, AppointmentState] = {}
            for appointment in active:
                for slot in slots.values():
                    if (slot.room_id == appointment.room_id
                            and appointment.start_at <= slot.start_at < appointment.end_at):
                        assert slot.id not in occupied, f"slot {slot.id} has two occupants"
                        occupied[slot.id] = appointment.state
            for slot_id, slot in slots.items():
                expected = EXPECTED_SLOT_STATUS.get(occupied.get(slot_id), SlotStatus.FREE)
                assert slot.status is expected, f"slot {slot_id} is {slot.status}"

    return BookingMachine


def test_booking_operations_in_any_order_keep_the_invariants(
        migrated_engine: Engine, tiny_network, tiny_catalogue) -> None:
    machine = machine_for(migrated_engine, tiny_network, tiny_catalogue)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=12, stateful_step_count=15, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))


pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")

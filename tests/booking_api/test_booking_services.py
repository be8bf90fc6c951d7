"""The booking service on SQLite and PostgreSQL: holds, bookings, cancellations, outcomes,
blocks, rule refusals and overrides; every refusal changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from booking_api.appointments import flows, services
from booking_api.appointments.models import Appointment
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.core.errors import (
    ChangeRefused,
    HoldExpired,
    InvalidInput,
    NotFound,
    OverrideNotAllowed,
    RequestNotBookable,
    SlotNotEligible,
    SlotTaken,
    SlotUnavailable,
)
from booking_api.diary.blocking import block_slot, unblock_slot
from booking_api.requests.models import Request
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, RequestState, SlotStatus
from tests.booking_api.booking_world import (
    CLERK,
    NOW,
    World,
    active_per_slot,
    appointment_audit_count,
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]

HOLD = 10


@pytest.fixture
def world(booking_engine: Engine, tiny_network, tiny_catalogue) -> World:
    return build_world(booking_engine, tiny_network, tiny_catalogue)


@pytest.fixture
def engine(booking_engine: Engine) -> Engine:
    return booking_engine


def _slot(world: World, index: int = 0, room: str = "S1-XR1") -> int:
    return world.slots[room][index]


def _state(engine: Engine, model: type, row_id: int):
    with transaction(engine) as session:
        row = session.get(model, row_id)
        return row.status if isinstance(row, Slot) else row.state


def _hold(world: World, who: int = 0, slot: int | None = None, now=NOW) -> Appointment:
    with transaction(world.engine) as session:
        return services.hold_slot(session, world.patient_actor(who), world.requests[who],
                                  slot or _slot(world), now=now, hold_minutes=HOLD,
                                  patient_id=world.patients[who])


def _book(world: World, who: int = 0, slot: int | None = None, now=NOW) -> Appointment:
    with transaction(world.engine) as session:
        return services.book_slot(session, world.patient_actor(who), world.requests[who],
                                  slot or _slot(world), now=now, patient_id=world.patients[who])


def test_holding_makes_the_slot_tentative_and_booking_the_hold_makes_it_busy(world) -> None:
    hold = _hold(world)
    assert hold.state is AppointmentState.HELD and hold.state.fhir_status == "pending"
    assert hold.held_until == NOW + timedelta(minutes=HOLD)
    assert _state(world.engine, Slot, _slot(world)) is SlotStatus.BUSY_TENTATIVE

    with transaction(world.engine) as session:
        booked = services.book_hold(session, world.patient_actor(0), hold.id,
                                    now=NOW + timedelta(minutes=5),
                                    patient_id=world.patients[0])

    assert booked.state.fhir_status == "booked"
    assert _state(world.engine, Slot, _slot(world)) is SlotStatus.BUSY
    assert _state(world.engine, Request, world.requests[0]) is RequestState.APPOINTED


def test_expired_hold_frees_the_slot_for_someone_else(world) -> None:
    first = _hold(world, 0)

    second = _book(world, 1, now=NOW + timedelta(minutes=HOLD))

    assert second.state is AppointmentState.BOOKED
    with transaction(world.engine) as session:
        lapsed = session.get(Appointment, first.id)
        assert (lapsed.state, lapsed.cancel_reason) == (AppointmentState.CANCELLED,
                                                        "hold expired")
    assert active_per_slot(world.engine) == {_slot(world): 1}


def test_booking_an_expired_hold_is_refused_and_changes_nothing(world) -> None:
    hold = _hold(world)

    with pytest.raises(HoldExpired) as refused, transaction(world.engine) as session:
        services.book_hold(session, world.patient_actor(0), hold.id,
                           now=NOW + timedelta(minutes=HOLD, seconds=1),
                           patient_id=world.patients[0])

    assert refused.value.field == "appointment_id"
    assert _state(world.engine, Appointment, hold.id) is AppointmentState.HELD
    assert _state(world.engine, Request, world.requests[0]) is RequestState.APPOINTABLE


def test_extending_a_hold_adds_time_to_what_is_left(world) -> None:
    hold = _hold(world)
    with transaction(world.engine) as session:
        extended = services.extend_hold(session, CLERK, hold.id, now=NOW, hold_minutes=HOLD)
    assert extended.held_until == NOW + timedelta(minutes=2 * HOLD)


def test_a_hold_can_be_extended_ten_times_and_no_more(world) -> None:
    hold = _hold(world)
    for press in range(services.HOLD_EXTENSIONS_ALLOWED):
        with transaction(world.engine) as session:
            extended = services.extend_hold(session, CLERK, hold.id,
                                            now=NOW + timedelta(minutes=press),
                                            hold_minutes=HOLD)
    assert extended.held_until == NOW + timedelta(minutes=HOLD * 11)

    with pytest.raises(ChangeRefused, match="extended 10 times") as refused, \
            transaction(world.engine) as session:
        services.extend_hold(session, CLERK, hold.id, now=NOW + timedelta(minutes=20),
                             hold_minutes=HOLD)
    assert refused.value.field == "appointment_id"


def test_the_sweeper_expires_only_stale_holds(world) -> None:
    _hold(world, 0, _slot(world, 0))
    _hold(world, 1, _slot(world, 1), now=NOW + timedelta(minutes=5))

    with transaction(world.engine) as session:
        swept = services.sweep_expired_holds(session, NOW + timedelta(minutes=12))

    assert swept == 1
    assert _state(world.engine, Slot, _slot(world, 0)) is SlotStatus.FREE
    assert _state(world.engine, Slot, _slot(world, 1)) is SlotStatus.BUSY_TENTATIVE


def test_a_taken_slot_is_refused_with_the_plain_reason(world) -> None:
    _book(world, 0)

    with pytest.raises(SlotTaken, match="that time has just been taken"):
        _book(world, 1)
    assert active_per_slot(world.engine) == {_slot(world): 1}


def test_a_request_cannot_hold_two_slots_at_once(world) -> None:
    _hold(world, 0, _slot(world, 0))

    with pytest.raises(RequestNotBookable, match="already has an active appointment"):
        _hold(world, 0, _slot(world, 1))


def test_cancelling_frees_the_slot_and_makes_the_request_appointable_again(world) -> None:
    booked = _book(world)

    with transaction(world.engine) as session:
        services.cancel_appointment(session, world.patient_actor(0), booked.id, "cannot come",
                                    now=NOW, patient_id=world.patients[0])

    assert _state(world.engine, Slot, _slot(world)) is SlotStatus.FREE
    assert _state(world.engine, Request, world.requests[0]) is RequestState.APPOINTABLE
    assert _book(world, 1).state is AppointmentState.BOOKED


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_cancelling_without_a_reason_is_refused_naming_the_field(world, reason) -> None:
    booked = _book(world)

    with pytest.raises(InvalidInput) as refused, transaction(world.engine) as session:
        services.cancel_appointment(session, CLERK, booked.id, reason, now=NOW)

    assert refused.value.field == "reason" and "reason" in refused.value.message
    assert _state(world.engine, Appointment, booked.id) is AppointmentState.BOOKED


@pytest.mark.parametrize(("outcome", "request_state", "fhir"), [
    (AppointmentState.ATTENDED, RequestState.ATTENDED, "fulfilled"),
    (AppointmentState.DNA, RequestState.DNA, "noshow"),
])
def test_recording_the_outcome_moves_appointment_and_request(world, outcome, request_state,
                                                             fhir) -> None:
    booked = _book(world)

    with transaction(world.engine) as session:
        done = services.record_outcome(session, CLERK, booked.id, outcome, now=NOW)

    assert done.state.fhir_status == fhir
    assert _state(world.engine, Request, world.requests[0]) is request_state


def test_a_blocked_slot_cannot_be_booked_until_unblocked(world) -> None:
    with transaction(world.engine) as session:
        block_slot(session, CLERK, _slot(world), "scanner service", now=NOW)

    with pytest.raises(SlotUnavailable, match="blocked"):
        _book(world)
    assert active_per_slot(world.engine) == {}

    with transaction(world.engine) as session:
        unblock_slot(session, CLERK, _slot(world), "service done", now=NOW)
    assert _book(world).state is AppointmentState.BOOKED


def test_a_booked_slot_cannot_be_blocked(world) -> None:
    _book(world)

    with pytest.raises(ChangeRefused, match="move or cancel"), \
            transaction(world.engine) as session:
        block_slot(session, CLERK, _slot(world), "scanner service", now=NOW)


def test_a_slot_that_has_started_is_refused(world) -> None:
    with pytest.raises(SlotUnavailable, match="already started"):
        _book(world, now=NOW.replace(day=8))


def test_a_slot_the_rules_refuse_is_refused_with_their_reasons(world, engine: Engine) -> None:
    with transaction(engine) as session:
        request = session.get(Request, world.requests[0])
        request.latest_date = date(2026, 12, 5)
        session.add(request)

    with pytest.raises(SlotNotEligible, match="Outside the clinical window") as refused:
        _book(world)

    assert refused.value.field == "slot_id"
    assert active_per_slot(engine) == {}


def test_an_exam_longer_than_a_slot_occupies_the_slots_it_runs_into(
        engine: Engine, tiny_network, tiny_catalogue) -> None:
    world = build_world(engine, tiny_network, tiny_catalogue, slot_minutes=5,
                        exam_code="XKNEE")
    booked = _book(world, 0, _slot(world, 0))

    assert booked.end_at - booked.start_at == timedelta(minutes=10)
    assert _state(engine, Slot, _slot(world, 1)) is SlotStatus.BUSY
    with pytest.raises(SlotTaken):
        _book(world, 1, _slot(world, 1))
    with pytest.raises(SlotUnavailable, match="consecutive minutes"):
        _book(world, 1, world.slots["S1-XR1"][-1])


def test_a_clerk_may_not_override_a_radiologists_rule_but_vetting_staff_may(
        world, engine: Engine) -> None:
    with transaction(engine) as session:
        request = session.get(Request, world.requests[0])
        request.latest_date = date(2026, 12, 5)
        session.add(request)
    override = [flows.RuleOverride("clinical-window", "patient asked, radiologist agreed")]

    with pytest.raises(OverrideNotAllowed, match="radiologist"), transaction(engine) as s:
        flows.book_on_behalf(s, CLERK, world.requests[0], _slot(world), reason="phone call",
                             overrides=override, now=NOW)
    vetting = Actor("vetting:drx", Channel.CLERK, role="vetting")
    with transaction(engine) as session:
        booked = flows.book_on_behalf(session, vetting, world.requests[0], _slot(world),
                                      reason="phone call", overrides=override, now=NOW)
    assert booked.state is AppointmentState.BOOKED


@pytest.mark.parametrize(("reason", "overrides", "field"), [
    ("", [], "reason"),
    ("phone call", [flows.RuleOverride("clinical-window", " ")], "overrides[0].reason"),
])
def test_booking_on_behalf_names_the_missing_field(world, reason, overrides, field) -> None:
    vetting = Actor("vetting:drx", Channel.CLERK, role="vetting")
    with pytest.raises(InvalidInput) as refused, transaction(world.engine) as session:
        flows.book_on_behalf(session, vetting, world.requests[0], _slot(world), reason=reason,
                             overrides=overrides, now=NOW)
    assert refused.value.field == field


def test_a_patient_cannot_act_on_another_patients_appointment(world) -> None:
    booked = _book(world, 0)

    with pytest.raises(NotFound), transaction(world.engine) as session:
        services.cancel_appointment(session, world.patient_actor(1), booked.id, "not mine",
                                    now=NOW, patient_id=world.patients[1])
    with pytest.raises(NotFound), transaction(world.engine) as session:
        services.book_slot(session, world.patient_actor(1), world.requests[0], _slot(world, 1),
                           now=NOW, patient_id=world.patients[1])
    assert _state(world.engine, Appointment, booked.id) is AppointmentState.BOOKED


def test_every_change_writes_one_appointment_audit_event(world) -> None:
    hold = _hold(world)
    with transaction(world.engine) as session:
        services.book_hold(session, CLERK, hold.id, now=NOW)
    with transaction(world.engine) as session:
        services.cancel_appointment(session, CLERK, hold.id, "moved away", now=NOW)

    assert appointment_audit_count(world.engine) == 3


def test_a_patients_appointments_are_theirs_only(world) -> None:
    mine = _book(world, 0)
    _book(world, 1, _slot(world, 1))

    with Session(world.engine) as session:
        listed = services.appointments_of_patient(session, world.patients[0])
        ids = list(session.scalars(select(Appointment.id)))

    assert [a.id for a in listed] == [mine.id] and len(ids) == 2

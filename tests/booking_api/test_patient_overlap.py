"""One patient, one place at a time: a hold, booking or move that overlaps another of the
patient's live appointments, or leaves too little time to travel between two sites, is
refused naming the clash (the database refuses an overlap itself on PostgreSQL); two
bookings of one patient racing at two sites give exactly one; a clerk may book anyway with a
reason, which is kept and audited."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from booking_api.access.models import AccountRole
from booking_api.appointments import flows, services
from booking_api.appointments.models import NO_OVERLAP_FOR_A_PATIENT, Appointment
from booking_api.audit.models import AuditEvent
from booking_api.core.db import transaction
from booking_api.core.errors import InvalidInput, NotPermitted, PatientBusy
from domain.lifecycle import AppointmentState
from tests.booking_api.access_support import MovableClock, add_staff, make_app, staff_headers
from tests.booking_api.booking_world import (
    CLERK,
    NOW,
    World,
    add_request,
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]


@pytest.fixture
def world(booking_engine: Engine, tiny_network, tiny_catalogue) -> World:
    return build_world(booking_engine, tiny_network, tiny_catalogue, patients=2)


@pytest.fixture
def other_request(world: World) -> int:
    return add_request(world.engine, world.patients[0])


def _book(world: World, request_id: int, slot: int, **kwargs) -> Appointment:
    with transaction(world.engine) as session:
        return services.book_slot(session, CLERK, request_id, slot, now=NOW, **kwargs)


def test_booking_a_patient_at_the_same_time_at_another_site_is_refused_naming_the_clash(
        world: World, other_request: int) -> None:
    first = _book(world, world.requests[0], world.slots["S1-XR1"][0])

    with pytest.raises(PatientBusy) as refused:
        _book(world, other_request, world.slots["S2-XR1"][0])

    assert [clash.appointment_id for clash in refused.value.clashes] == [first.id]
    assert f"appointment {first.id} (booked) at S1" in refused.value.message
    assert refused.value.field == "slot_id"
    assert _live(world) == {first.id}


@pytest.mark.parametrize(("slot", "allowed"), [(1, False), (2, False), (3, True)])
def test_a_different_site_needs_the_travel_allowance_between_appointments(
        world: World, other_request: int, slot: int, allowed: bool) -> None:
    # Slots are 10 minutes; the tiny network's sites share coordinates, so the allowance is
    # the 15-minute changeover: a gap of 0 or 10 minutes clashes, 20 does not.
    _book(world, world.requests[0], world.slots["S1-XR1"][0])

    if allowed:
        assert _book(world, other_request, world.slots["S2-XR1"][slot]).state == "booked"
    else:
        with pytest.raises(PatientBusy, match="15 minutes are needed to get between"):
            _book(world, other_request, world.slots["S2-XR1"][slot])


def test_the_same_site_may_take_the_patient_back_to_back(world: World,
                                                         other_request: int) -> None:
    _book(world, world.requests[0], world.slots["S1-XR1"][0])

    assert _book(world, other_request, world.slots["S1-XR1"][1]).state == "booked"


def test_a_hold_may_not_overlap_the_patients_other_hold(world: World,
                                                        other_request: int) -> None:
    with transaction(world.engine) as session:
        held = services.hold_slot(session, world.patient_actor(0), world.requests[0],
                                  world.slots["S1-XR1"][2], now=NOW, hold_minutes=10)

    with pytest.raises(PatientBusy, match=f"appointment {held.id} \\(held\\)"), \
            transaction(world.engine) as session:
        services.hold_slot(session, world.patient_actor(0), other_request,
                           world.slots["S2-XR1"][2], now=NOW, hold_minutes=10,
                           patient_id=world.patients[0])


def test_a_lapsed_hold_does_not_block_the_patient_and_is_expired(
        world: World, other_request: int) -> None:
    with transaction(world.engine) as session:
        held = services.hold_slot(session, world.patient_actor(0), world.requests[0],
                                  world.slots["S1-XR1"][2], now=NOW, hold_minutes=10)

    with transaction(world.engine) as session:
        booked = services.book_slot(session, CLERK, other_request, world.slots["S2-XR1"][2],
                                    now=NOW + timedelta(minutes=11))

    assert _live(world) == {booked.id}
    with transaction(world.engine) as session:
        assert session.get(Appointment, held.id).state is AppointmentState.CANCELLED


def test_a_move_never_clashes_with_the_appointment_being_moved(world: World) -> None:
    booked = _book(world, world.requests[0], world.slots["S1-XR1"][0])

    with transaction(world.engine) as session:
        moved = flows.reschedule(session, CLERK, booked.id, world.slots["S2-XR1"][1],
                                 reason="nearer home", now=NOW)

    assert _live(world) == {moved.id}


def test_a_move_onto_a_time_that_clashes_with_another_appointment_is_refused(
        world: World, other_request: int) -> None:
    booked = _book(world, world.requests[0], world.slots["S1-XR1"][0])
    other = _book(world, other_request, world.slots["S1-XR1"][4])

    with pytest.raises(PatientBusy, match=f"appointment {other.id}"), \
            transaction(world.engine) as session:
        flows.reschedule(session, CLERK, booked.id, world.slots["S2-XR1"][4],
                         reason="nearer home", now=NOW)

    assert _live(world) == {booked.id, other.id}


def test_a_clerk_books_a_clash_anyway_with_a_reason_kept_and_audited(
        world: World, other_request: int) -> None:
    first = _book(world, world.requests[0], world.slots["S1-XR1"][0])

    with transaction(world.engine) as session:
        second = flows.book_on_behalf(
            session, CLERK, other_request, world.slots["S2-XR1"][0], reason="by phone",
            overlap_reason="inpatient: porters take her between departments", now=NOW)

    assert _live(world) == {first.id, second.id}
    with transaction(world.engine) as session:
        assert session.get(Appointment, second.id).overlap_reason.startswith("inpatient")
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "appointment.overlap_overridden")).one()
    assert event.entity_id == str(second.id) and event.actor == CLERK.name
    assert event.reason == "inpatient: porters take her between departments"
    assert event.after["clashes_with"] == [first.id]


def test_an_override_reason_without_a_clash_is_not_kept(world: World,
                                                        other_request: int) -> None:
    _book(world, world.requests[0], world.slots["S1-XR1"][0])

    with transaction(world.engine) as session:
        second = flows.book_on_behalf(session, CLERK, other_request,
                                      world.slots["S2-XR1"][5], reason="by phone",
                                      overlap_reason="just in case", now=NOW)

    assert second.overlap_reason is None


def test_the_override_needs_a_reason_that_is_not_blank(world: World,
                                                       other_request: int) -> None:
    _book(world, world.requests[0], world.slots["S1-XR1"][0])

    with pytest.raises(InvalidInput) as refused, transaction(world.engine) as session:
        flows.book_on_behalf(session, CLERK, other_request, world.slots["S2-XR1"][0],
                             reason="by phone", overlap_reason="   ", now=NOW)

    assert refused.value.field == "overlap_reason"


def test_a_patient_cannot_override_the_clash(world: World) -> None:
    booked = _book(world, world.requests[0], world.slots["S1-XR1"][0])

    with pytest.raises(NotPermitted), transaction(world.engine) as session:
        flows.reschedule(session, world.patient_actor(0), booked.id, world.slots["S2-XR1"][0],
                         reason="later", now=NOW, patient_id=world.patients[0],
                         overlap_reason="I can manage")


def test_the_database_itself_refuses_overlapping_appointments_of_one_patient(
        world: World, other_request: int) -> None:
    if world.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the one writer and the check under it are the guard")
    first = _book(world, world.requests[0], world.slots["S1-XR1"][0])

    def raw(overlap_reason: str | None) -> Appointment:
        return Appointment(request_id=other_request, slot_id=world.slots["S2-XR1"][0],
                           patient_id=world.patients[0], channel=CLERK.channel,
                           state=AppointmentState.BOOKED, room_id="S2-XR1",
                           start_at=first.start_at, end_at=first.end_at,
                           overlap_reason=overlap_reason)

    with pytest.raises(DBAPIError) as refused, transaction(world.engine) as session:
        session.add(raw(None))
    with transaction(world.engine) as session:
        session.add(raw("booked anyway by a clerk"))

    assert refused.value.orig.sqlstate == "23P01"
    assert refused.value.orig.diag.constraint_name == NO_OVERLAP_FOR_A_PATIENT


def test_many_patients_each_booked_at_two_sites_at_once_get_one_booking_each(
        booking_engine: Engine, tiny_network, tiny_catalogue) -> None:
    pairs = 6
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=pairs)
    seconds = [add_request(booking_engine, world.patients[i], number=i) for i in range(pairs)]
    start = threading.Barrier(2 * pairs)
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def attempt(request_id: int, slot: int) -> None:
        start.wait()
        try:
            with transaction(booking_engine) as session:
                services.book_slot(session, CLERK, request_id, slot, now=NOW)
            outcome = "booked"
        except PatientBusy:
            outcome = "patient busy"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=attempt, args=args) for i in range(pairs)
               for args in ((world.requests[i], world.slots["S1-XR1"][i % 6]),
                            (seconds[i], world.slots["S2-XR1"][i % 6]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == Counter({"booked": pairs, "patient busy": pairs})
    with transaction(booking_engine) as session:
        live = session.scalars(select(Appointment.patient_id).where(
            Appointment.state == AppointmentState.BOOKED)).all()
    assert sorted(live) == sorted(world.patients)


def test_two_concurrent_requests_over_http_book_one_and_answer_409_naming_the_clash(
        world: World, other_request: int) -> None:
    url = world.engine.url.render_as_string(hide_password=False)
    with TestClient(make_app(url, MovableClock())) as client:
        add_staff(world.engine, "cora.clerk", AccountRole.CLERK)
        headers = staff_headers(client, "cora.clerk")
        start = threading.Barrier(2)
        answers = []

        def book(request_id: int, slot: int) -> None:
            start.wait()
            body = {"request_id": request_id, "slot_id": slot, "reason": "by phone"}
            answers.append((body, client.post("/api/staff/bookings", json=body, headers={
                **headers, "Idempotency-Key": str(uuid.uuid4())})))

        threads = [threading.Thread(target=book, args=args) for args in (
            (world.requests[0], world.slots["S1-XR1"][0]),
            (other_request, world.slots["S2-XR1"][0]))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        loser = next(body for body, answer in answers if answer.status_code == 409)
        anyway = client.post("/api/staff/bookings", json={
            **loser, "overlap_reason": "porters bring him over"},
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())})

    statuses = sorted(answer.status_code for _body, answer in answers)
    refused = next(answer for _b, answer in answers if answer.status_code == 409).json()
    winner = next(answer for _b, answer in answers if answer.status_code == 201).json()
    assert statuses == [201, 409]
    assert refused["code"] == "patient_busy" and refused["field"] == "slot_id"
    assert [clash["appointment_id"] for clash in refused["clashes"]] == [winner["id"]]
    assert f"appointment {winner['id']} (booked)" in refused["detail"]
    assert anyway.status_code == 201
    assert anyway.json()["overlap_reason"] == "porters bring him over"


def _live(world: World) -> set[int]:
    with transaction(world.engine) as session:
        return set(session.scalars(select(Appointment.id).where(
            Appointment.state.in_(("held", "booked")))).all())

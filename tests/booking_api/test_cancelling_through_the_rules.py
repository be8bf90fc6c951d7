"""Issue 17, item 3, for cancellations, on SQLite and PostgreSQL: a cancelled booking's request
goes where the appointability rules place it now, never straight back to appointable. Facts
that changed while it was booked (an MRI safety answer, an eGFR grown too old) leave it
waiting, with the rules' reasons on its event and in its explanation."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from booking_api.appointments.services import book_slot, cancel_appointment
from booking_api.core.db import transaction
from booking_api.core.errors import RequestNotBookable
from booking_api.requests.flows import record_request_fact
from booking_api.requests.models import Request, RequestEvent
from booking_api.requests.rules_check import requests_out_of_step
from booking_api.requests.services import explain_request
from booking_api.slots.models import DiarySession, Slot
from domain.exams import exam_catalogue
from domain.lifecycle import RequestState
from domain.network import Room
from domain.vocabulary import Modality, SessionPeriod
from tests.booking_api.booking_world import (
    CLERK,
    DIARY_DAY,
    NOW,
    booking_engine,
    build_world,
    migrated_engine,
)
from tests.request_support import VETTER, ready_facts

__all__ = ["booking_engine", "migrated_engine"]


def _with_mri(network, catalogue):
    network = dataclasses.replace(network, rooms=(*network.rooms, Room(
        "S1-MR1", "S1", "MRI 1", Modality.MR, frozenset(), 200)))
    return network, {**catalogue, "MBRAI": exam_catalogue()["MBRAI"]}


def _slot(engine, room_id: str, template: str, families: str, modality: Modality,
          minutes: int) -> int:
    with transaction(engine) as session:
        diary = DiarySession(room_id=room_id, session_date=DIARY_DAY,
                             period=SessionPeriod.AFTERNOON, template_id=template)
        session.add(diary)
        session.flush()
        start = datetime.combine(DIARY_DAY, SessionPeriod.AFTERNOON.start, tzinfo=UTC)
        slot = Slot(session_id=diary.id, room_id=room_id, site_id="S1", start_at=start,
                    end_at=start + timedelta(minutes=minutes), modality=modality,
                    families=families, template_id=template)
        session.add(slot)
        session.flush()
        assert slot.id is not None
        return slot.id


def _book(engine, request_id: int, slot_id: int) -> int:
    with transaction(engine) as session:
        return book_slot(session, CLERK, request_id, slot_id, now=NOW).id or 0


def _cancel(engine, appointment_id: int, now: datetime) -> None:
    with transaction(engine) as session:
        cancel_appointment(session, CLERK, appointment_id, "patient unwell", now=now)


def _state_and_last_event(engine, request_id: int) -> tuple[RequestState, RequestEvent]:
    with transaction(engine) as session:
        state = session.scalar(select(Request.state).where(Request.id == request_id))
        event = session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id)
                                .order_by(RequestEvent.id.desc())).first()
        assert state is not None and event is not None
        return state, event


def test_a_request_still_meeting_every_rule_is_appointable_again_after_cancelling(
        booking_engine, tiny_network, tiny_catalogue):
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=1)
    booked = _book(booking_engine, world.requests[0], world.slots["S1-XR1"][0])

    _cancel(booking_engine, booked, NOW)

    state, event = _state_and_last_event(booking_engine, world.requests[0])
    assert state is RequestState.APPOINTABLE
    assert (event.from_state, event.to_state) == (RequestState.APPOINTED,
                                                  RequestState.APPOINTABLE)
    assert event.reason == ("appointment cancelled: patient unwell; "
                            "rules appointability v2026.12.1: every rule met")


def test_an_mri_safety_answer_given_while_booked_leaves_the_cancelled_request_waiting(
        booking_engine, tiny_network, tiny_catalogue):
    network, catalogue = _with_mri(tiny_network, tiny_catalogue)
    world = build_world(booking_engine, network, catalogue, patients=1, exam_code="MBRAI")
    slot = _slot(booking_engine, "S1-MR1", "MR_NEURO", "MR_NEURO", Modality.MR, 30)
    booked = _book(booking_engine, world.requests[0], slot)
    with transaction(booking_engine) as session:  # the patient rang: they have a pacemaker
        record_request_fact(session, world.requests[0], "mri_safety_review_needed", True,
                            VETTER, NOW.date())

    _cancel(booking_engine, booked, NOW)

    state, event = _state_and_last_event(booking_engine, world.requests[0])
    assert state is RequestState.WAITING
    assert event.reason is not None and "mri-safety-review" in event.reason
    with transaction(booking_engine) as session:
        explanation = explain_request(session, world.requests[0], NOW.date())
        assert explanation.failing == ("mri-safety-review",)
        assert requests_out_of_step(session, NOW.date()) == []


def test_an_egfr_grown_too_old_while_booked_leaves_the_cancelled_request_waiting(
        booking_engine, tiny_network, tiny_catalogue):
    catalogue = {**tiny_catalogue, "CCHEC": exam_catalogue()["CCHEC"]}
    kidney_test = NOW.date() - timedelta(days=90)  # 3 months is 92 days: booked in time
    world = build_world(booking_engine, tiny_network, catalogue, patients=1, exam_code="CCHEC",
                        facts={**ready_facts("CCHEC", NOW.date()), "egfr_date": kidney_test})
    slot = _slot(booking_engine, "S1-CT1", "CT_CONTRAST", "CT_CONTRAST", Modality.CT, 15)
    booked = _book(booking_engine, world.requests[0], slot)

    _cancel(booking_engine, booked, NOW + timedelta(days=4))

    state, event = _state_and_last_event(booking_engine, world.requests[0])
    assert state is RequestState.WAITING
    assert event.reason is not None and event.reason.endswith(": waiting (contrast-egfr-recent)")
    with transaction(booking_engine) as session:
        explanation = explain_request(session, world.requests[0], (NOW + timedelta(days=4))
                                      .date())
        assert explanation.pending == ("contrast-egfr-recent",)
        assert "needs an eGFR from the last 3 months" in " ".join(explanation.lines())


def test_a_request_waiting_after_cancelling_cannot_be_booked_again(
        booking_engine, tiny_network, tiny_catalogue):
    network, catalogue = _with_mri(tiny_network, tiny_catalogue)
    world = build_world(booking_engine, network, catalogue, patients=1, exam_code="MBRAI")
    slot = _slot(booking_engine, "S1-MR1", "MR_NEURO", "MR_NEURO", Modality.MR, 30)
    booked = _book(booking_engine, world.requests[0], slot)
    with transaction(booking_engine) as session:
        record_request_fact(session, world.requests[0], "mri_safety_review_needed", True,
                            VETTER, NOW.date())
    _cancel(booking_engine, booked, NOW)

    with pytest.raises(RequestNotBookable, match="is waiting"):
        _book(booking_engine, world.requests[0], slot)

"""Issue 17, item 3: stored request states always equal the rules' verdict. The demo seed
places its requests through the rules, and `cdip rules sweep --check` finds any request that
was written past them."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from booking_api.access.principals import PatientPrincipal
from booking_api.appointments.flows import book_on_behalf, reschedule
from booking_api.appointments.services import (
    book_hold,
    book_slot,
    cancel_appointment,
    hold_slot,
    record_outcome,
)
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.config import get_settings
from booking_api.core.db import make_session_factory, read_only, transaction
from booking_api.database import open_database
from booking_api.demo.seed import seed_demo
from booking_api.needs.flows import record_needs
from booking_api.questionnaires.flows import submit_answers
from booking_api.requests.flows import record_request_fact, record_rule_override
from booking_api.requests.models import Request
from booking_api.requests.rules_check import requests_out_of_step
from booking_api.requests.services import today_in_london
from booking_api.search.index import SlotIndex
from booking_api.search.services import SearchQuery, search_slots
from booking_api.slots.models import DiarySession, Slot
from cdip_cli.main import app
from domain.exams import exam_catalogue
from domain.lifecycle import AppointmentState, RequestState
from domain.network import Network, Room
from domain.patient_needs import PatientNeeds
from domain.questionnaires import MRI_SAFETY
from domain.vocabulary import Modality, SessionPeriod
from slot_rules.overrides import OverrideRole
from slot_rules.slot_request import LONDON

runner = CliRunner()


def _states(engine: Engine) -> dict[int, RequestState]:
    with transaction(engine) as session:
        return dict(session.execute(select(Request.id, Request.state)).all())


def test_every_seeded_request_is_in_the_state_the_rules_give_it(engine: Engine) -> None:
    today = today_in_london()
    seed_demo(engine, today, patients=50)

    with transaction(engine) as session:
        assert requests_out_of_step(session, today) == []
    states = set(_states(engine).values())
    assert RequestState.WAITING in states  # MRI safety questionnaires still to come
    assert RequestState.APPOINTABLE in states


def test_an_mri_request_waits_for_its_safety_questionnaire_after_seeding(
        engine: Engine) -> None:
    seed_demo(engine, today_in_london(), patients=50)
    with transaction(engine) as session:
        mri = session.scalars(select(Request).where(Request.exam_code.like("M%"))).all()
        assert mri and {r.state for r in mri} <= {RequestState.WAITING,
                                                  RequestState.JUSTIFIED}


@pytest.fixture
def cli_database(migrated_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CDIP_DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def test_sweep_check_passes_on_the_seeded_world(engine: Engine, cli_database: str) -> None:
    seed_demo(engine, today_in_london(), patients=20)
    result = runner.invoke(app, ["rules", "sweep", "--check"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["out_of_step"] == 0


def test_sweep_check_names_a_request_stored_appointable_past_the_rules_and_changes_nothing(
        engine: Engine, cli_database: str) -> None:
    seed_demo(engine, today_in_london(), patients=20)
    waiting = next(i for i, s in _states(engine).items() if s is RequestState.WAITING)
    with transaction(engine) as session:
        session.execute(update(Request).where(Request.id == waiting)
                        .values(state=RequestState.APPOINTABLE))
    before = _states(engine)

    result = runner.invoke(app, ["rules", "sweep", "--check"])

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["requests"][0]["request_id"] == waiting
    assert report["requests"][0]["rules_say"] == "waiting"
    assert _states(engine) == before


# The seeded world after the typical flows: stored state still equals the rules' verdict.

PATIENT_ROOMS = (("S1-XR1", "S1"), ("S2-XR1", "S2"))
CLERK = Actor("clerk:test", Channel.CLERK, role="clerk")
RADIOLOGIST = Actor("radiologist:test", Channel.CLERK, role="radiologist")
RADIOGRAPHER = Actor("radiographer:test", Channel.CLERK, role="radiographer")


def _patient(patient_id: int) -> Actor:
    return PatientPrincipal(patient_id, 0, frozenset()).actor


def _seeded_with_diaries(engine: Engine, tiny_network: Network, tiny_catalogue: dict,
                         today: date) -> None:
    """The demo seed over the tiny network with an MRI room (chest and knee X-rays, MRI
    brains), and a week of X-ray and MRI diaries from tomorrow."""
    network = dataclasses.replace(tiny_network, rooms=(*tiny_network.rooms, Room(
        "S1-MR1", "S1", "MRI 1", Modality.MR, frozenset(), 200)))
    seed_demo(engine, today, network, {**tiny_catalogue, "MBRAI": exam_catalogue()["MBRAI"]},
              patients=30)
    with transaction(engine) as session:
        for offset in range(1, 8):
            day = today + timedelta(days=offset)
            for room, site in PATIENT_ROOMS:
                _diary(session, room, site, day, "XR_PLAIN_GEN", "XR_PLAIN", Modality.XR, 10)
            _diary(session, "S1-MR1", "S1", day, "MR_NEURO", "MR_NEURO", Modality.MR, 30)


def _diary(session, room: str, site: str, day: date, template: str, families: str,
           modality: Modality, minutes: int) -> None:
    diary = DiarySession(room_id=room, session_date=day, period=SessionPeriod.MORNING,
                         template_id=template)
    session.add(diary)
    session.flush()
    start = datetime.combine(day, time(9, 0), tzinfo=LONDON)
    step = timedelta(minutes=minutes)
    session.add_all(Slot(session_id=diary.id, room_id=room, site_id=site,
                         start_at=start + step * n, end_at=start + step * (n + 1),
                         modality=modality, families=families, template_id=template)
                    for n in range(6))


def _requests(engine: Engine, state: RequestState, exam_prefix: str) -> list[tuple[int, int]]:
    """(request id, patient id) of the requests in `state` whose exam code starts so."""
    with transaction(engine) as session:
        return [(r.id, r.patient_id) for r in session.scalars(
            select(Request).where(Request.state == state,
                                  Request.exam_code.like(f"{exam_prefix}%"))
            .order_by(Request.id))]


def _free_slots(engine: Engine, request_id: int, now: datetime) -> list[int]:
    """The request's eligible free slots, soonest first, as the portal searches them."""
    with make_session_factory(read_only(engine))() as session:
        index = SlotIndex()
        index.refresh(session, force=True)
        found = search_slots(session, index, request_id, SearchQuery(limit=5), now=now)
        return [offer.slot_id for offer in found.slots]


def test_stored_states_equal_the_rules_verdict_after_the_typical_flows(
        engine: Engine, cli_database: str, tiny_network: Network, tiny_catalogue: dict) -> None:
    today, now = today_in_london(), datetime.now(UTC)
    _seeded_with_diaries(engine, tiny_network, tiny_catalogue, today)
    xray = _requests(engine, RequestState.APPOINTABLE, "X")
    mri = _requests(engine, RequestState.WAITING, "M")
    assert len(xray) >= 5 and len(mri) >= 2
    (held, held_by), (moved, _), (cancelled, cancelled_by), (missed, _), (needs, needs_of) = \
        xray[:5]
    (answered, answered_by), (overridden, _) = mri[:2]
    with transaction(engine) as session:  # a patient holds a time, then books it
        hold = hold_slot(session, _patient(held_by), held, _free_slots(engine, held, now)[0],
                         now=now, hold_minutes=10, patient_id=held_by)
        book_hold(session, _patient(held_by), hold.id or 0, now=now, patient_id=held_by)
    with transaction(engine) as session:  # a clerk books, then changes the time
        slots = _free_slots(engine, moved, now)
        booking = book_on_behalf(session, CLERK, moved, slots[0], reason="by phone", now=now)
        reschedule(session, CLERK, booking.id or 0, slots[1], reason="patient asked", now=now)
    with transaction(engine) as session:  # a patient books and cancels
        booking = book_slot(session, _patient(cancelled_by), cancelled,
                            _free_slots(engine, cancelled, now)[0], now=now,
                            patient_id=cancelled_by)
        cancel_appointment(session, _patient(cancelled_by), booking.id or 0, "cannot come",
                           now=now, patient_id=cancelled_by)
    with transaction(engine) as session:  # booked, then did not attend
        booking = book_slot(session, CLERK, missed, _free_slots(engine, missed, now)[0], now=now)
        record_outcome(session, CLERK, booking.id or 0, AppointmentState.DNA, now=now)
    db = open_database(cli_database)
    try:  # needs told on the portal; MRI safety answers; a radiologist sets a rule aside
        record_needs(db, needs_of, needs, PatientNeeds(interpreter_language="Polish",
                                                       transport=True), _patient(needs_of))
        submit_answers(db, answered_by, answered, MRI_SAFETY,
                       {q.question_id: "no" for q in MRI_SAFETY.questions},
                       _patient(answered_by), today)
    finally:
        db.dispose()
    with transaction(engine) as session:
        record_request_fact(session, overridden, "mr_unsafe_implant", False, RADIOLOGIST, today)
        record_rule_override(session, overridden, "mri-safety-questionnaire",
                             OverrideRole.RADIOLOGIST, "answered on the ward, form scanned",
                             RADIOLOGIST, today=today)
    with transaction(engine) as session:  # the answered MRI is booked; then the patient rings
        booking = book_slot(session, CLERK, answered, _free_slots(engine, answered, now)[0],
                            now=now)
        record_request_fact(session, answered, "mri_safety_review_needed", True, RADIOGRAPHER,
                            today)
        cancel_appointment(session, CLERK, booking.id or 0, "MRI safety review", now=now)

    states = _states(engine)
    assert (states[held], states[moved], states[cancelled], states[missed]) == (
        RequestState.APPOINTED, RequestState.APPOINTED, RequestState.APPOINTABLE,
        RequestState.DNA)
    assert (states[needs], states[overridden], states[answered]) == (
        RequestState.APPOINTABLE, RequestState.APPOINTABLE, RequestState.WAITING)
    with transaction(engine) as session:
        assert requests_out_of_step(session, today) == []
    result = runner.invoke(app, ["rules", "sweep", "--check"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["out_of_step"] == 0

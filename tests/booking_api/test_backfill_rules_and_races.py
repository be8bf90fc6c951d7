"""Backfill against the rules and under races, on SQLite and PostgreSQL: twenty recipients
accepting at once make exactly one booking and nineteen clear answers; an MRI slot never
goes to a patient who declared an MR-unsafe implant, an adult never to a children's site; no
offer goes in the quiet hours; the same SMS answer twice books once."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, date, datetime, timedelta

from booking_api.backfill.flows import Outcome, accept_offer
from booking_api.backfill.models import OfferState
from booking_api.backfill.replies import answer_offer_reply
from booking_api.core.db import transaction
from booking_api.patients.models import Patient
from booking_api.requests.rules_models import RequestFact
from notifications.quiet_hours import QuietHours
from notifications.webhooks import InboundSms
from tests.booking_api.backfill_support import backfill_of
from tests.booking_api.booking_world import (
    active_per_slot,
    booking_engine,
    build_world,
    migrated_engine,
)
from tests.booking_api.outbox_support import phone_of

__all__ = ["booking_engine", "migrated_engine"]


def test_twenty_accepting_at_once_make_one_booking_and_nineteen_clear_answers(
        booking_engine, tiny_network, tiny_catalogue):
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=21)
    backfill = backfill_of(booking_engine, world, wave_size=20, max_candidates=40,
                           weekly_offer_limit=5)
    slot = world.slots["S1-XR1"][0]
    backfill.cancel(backfill.book(20, slot))
    backfill.run_jobs()
    offered = [o for o in backfill.offers() if o.state is OfferState.OFFERED]
    assert len(offered) == 20
    start, answers = threading.Barrier(20), []

    def accept(offer_id: int) -> None:
        start.wait()
        answers.append(accept_offer(backfill.db, offer_id, channel="sms", now=backfill.now))

    threads = [threading.Thread(target=accept, args=(o.id,)) for o in offered]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(a.outcome.value for a in answers)
    assert outcomes == ["booked"] + ["gone"] * 19
    assert all("taken" in a.message for a in answers if a.outcome is Outcome.GONE)
    assert active_per_slot(booking_engine)[slot] == 1


def test_the_same_sms_answer_twice_books_once(booking_engine, tiny_network, tiny_catalogue):
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=3)
    backfill = backfill_of(booking_engine, world, wave_size=1)
    slot = world.slots["S1-XR1"][0]
    backfill.cancel(backfill.book(2, slot))
    backfill.run_jobs()
    [offer] = [o for o in backfill.offers() if o.state is OfferState.OFFERED]
    index = world.patients.index(offer.patient_id)
    text = InboundSms(message_sid="SM" + "1" * 32, from_number=phone_of(index),
                      to_number="+447700900999", body="Book", opt_out_type=None)
    first = answer_offer_reply(backfill.db, text, backfill.now, backfill.policy)
    second = answer_offer_reply(backfill.db, text, backfill.now, backfill.policy)
    assert "booked" in first and "already accepted" in second
    assert active_per_slot(booking_engine)[slot] == 1


def test_no_offer_goes_in_the_quiet_hours(booking_engine, tiny_network, tiny_catalogue):
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=4)
    backfill = backfill_of(booking_engine, world, quiet_hours=QuietHours())
    backfill.now = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 22:30 in London (GMT)
    backfill.cancel(backfill.book(0, world.slots["S1-XR1"][0]))
    backfill.run_jobs()
    assert backfill.messages() == [] and {o.state for o in backfill.offers()} <= {
        OfferState.QUEUED}
    morning = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    backfill.run_jobs(morning)
    sent = {m.created_at for m in backfill.messages()}
    assert sent == {morning}


def test_a_declared_mr_unsafe_implant_is_never_offered_an_mri_slot(
        booking_engine, tiny_network, tiny_catalogue):
    from domain.exams import exam_catalogue
    from domain.network import Room
    from domain.vocabulary import Modality

    network = dataclasses.replace(tiny_network, rooms=(*tiny_network.rooms, Room(
        "S1-MR1", "S1", "MRI 1", Modality.MR, frozenset(), 200)))
    catalogue = {**tiny_catalogue, "MBRAI": exam_catalogue()["MBRAI"]}
    world = build_world(booking_engine, network, catalogue, patients=3, exam_code="MBRAI")
    slot = _mr_slot(booking_engine)
    with transaction(booking_engine) as session:
        for request_id in world.requests:
            session.add(RequestFact(request_id=request_id, name="mri_questionnaire_returned",
                                    value={"value": True}, recorded_by="test"))
        session.add(RequestFact(request_id=world.requests[1], name="mr_unsafe_implant",
                                value={"value": True}, recorded_by="test"))
    backfill = backfill_of(booking_engine, world, wave_size=5)
    backfill.cancel(backfill.book(0, slot))
    backfill.run_jobs()
    offers = {o.request_id: o for o in backfill.offers()}
    assert offers[world.requests[2]].sent_at is not None
    unsafe = offers.get(world.requests[1])
    assert unsafe is None or (unsafe.sent_at is None and "MR-unsafe implant" in unsafe.note)
    assert not [m for m in backfill.messages() if unsafe and m.offer_id == unsafe.id]


def test_an_adult_is_never_offered_a_childrens_site(booking_engine, tiny_network,
                                                   tiny_catalogue):
    sites = tuple(dataclasses.replace(s, age_limit_years=16) if s.site_id == "S2" else s
                  for s in tiny_network.sites)
    world = build_world(booking_engine, dataclasses.replace(tiny_network, sites=sites),
                        tiny_catalogue, patients=4)
    with transaction(booking_engine) as session:  # patients 0 and 1 are children of ten
        for child in world.patients[:2]:
            session.get(Patient, child).date_of_birth = date(2016, 5, 17)
    backfill = backfill_of(booking_engine, world)
    backfill.cancel(backfill.book(1, world.slots["S2-XR1"][0]))
    backfill.run_jobs()
    assert {o.patient_id for o in backfill.offers()} == {world.patients[0]}


def _mr_slot(engine) -> int:
    from booking_api.slots.models import DiarySession, Slot
    from domain.vocabulary import Modality, SessionPeriod
    from tests.booking_api.booking_world import DIARY_DAY

    with transaction(engine) as session:
        diary = DiarySession(room_id="S1-MR1", session_date=DIARY_DAY,
                             period=SessionPeriod.AFTERNOON, template_id="MR_NEURO")
        session.add(diary)
        session.flush()
        start = datetime.combine(DIARY_DAY, SessionPeriod.AFTERNOON.start, tzinfo=UTC)
        slot = Slot(session_id=diary.id, room_id="S1-MR1", site_id="S1", start_at=start,
                    end_at=start + timedelta(minutes=30), modality=Modality.MR,
                    families="MR_NEURO", template_id="MR_NEURO")
        session.add(slot)
        session.flush()
        return slot.id

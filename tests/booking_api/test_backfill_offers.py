"""Backfill of a freed slot through the real booking service, on SQLite and PostgreSQL: the
trigger writes the freed slot and its job with the cancellation; waves offer the ranked
candidates with their reasons; the first acceptance books, the rest hear it has gone; an
expired or filled offer changes nothing; twice is once; cascades end."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from booking_api.appointments.flows import reschedule
from booking_api.appointments.models import Appointment
from booking_api.appointments.services import (
    cancel_appointment,
    hold_slot,
    sweep_expired_holds,
)
from booking_api.audit.services import Actor
from booking_api.backfill.flows import Outcome, accept_offer
from booking_api.backfill.models import FreedState, OfferMessageKind, OfferState
from booking_api.core.channel import Channel
from booking_api.diary.blocking import block_slot, unblock_slot
from booking_api.short_notice.services import ShortNoticeWish, join_short_notice
from domain.lifecycle import AppointmentState
from tests.booking_api.backfill_support import backfill_of
from tests.booking_api.booking_world import (
    CLERK,
    active_per_slot,
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]


def _world(booking_engine, tiny_network, tiny_catalogue, patients=8, **policy):
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=patients)
    return backfill_of(booking_engine, world, **policy)


def test_a_cancellation_queues_its_backfill_in_the_same_transaction(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue)
    slot = backfill.world.slots["S1-XR1"][0]
    appointment = backfill.book(0, slot)
    assert backfill.freed() == []
    backfill.cancel(appointment)
    [freed] = backfill.freed()
    assert (freed.slot_id, freed.state, freed.cause) == (slot, FreedState.PENDING,
                                                         "clerk_cancelled")
    assert [job.payload for job in backfill.jobs() if job.kind == "backfill"] == [
        {"freed_slot_id": freed.id}]


def _cancelled_by(channel: Channel):
    def free(backfill, slot: int) -> None:
        appointment = backfill.book(0, slot)
        with backfill.db.transaction() as session:
            cancel_appointment(session, Actor("patient:0", channel, role="patient"),
                               appointment, "cannot come", now=backfill.now)
    return free


def _moved(by_service: bool):
    def free(backfill, slot: int) -> None:
        appointment = backfill.book(0, slot)
        later_slot = backfill.world.slots["S1-XR1"][5]
        with backfill.db.transaction() as session:
            reschedule(session, CLERK, appointment, later_slot, reason="another day",
                       now=backfill.now, by_service=by_service)
    return free


def _hold_lapsed(backfill, slot: int) -> None:
    with backfill.db.transaction() as session:
        hold_slot(session, CLERK, backfill.world.requests[0], slot, now=backfill.now,
                  hold_minutes=10)
    with backfill.db.transaction() as session:
        assert sweep_expired_holds(session, backfill.now + timedelta(minutes=11)) == 1


def _unblocked(backfill, slot: int) -> None:
    with backfill.db.transaction() as session:
        block_slot(session, CLERK, slot, "scanner down", now=backfill.now)
    with backfill.db.transaction() as session:
        unblock_slot(session, CLERK, slot, "scanner fixed", now=backfill.now)


@pytest.mark.parametrize(("free", "cause"), [
    (_cancelled_by(Channel.PORTAL), "patient_cancelled"),
    (_cancelled_by(Channel.SMS), "sms_cancelled"),
    (_moved(by_service=False), "changed"),
    (_moved(by_service=True), "repair"),
    (_hold_lapsed, "hold_lapsed"),
    (_unblocked, "unblocked"),
], ids=["patient", "sms", "change", "repair", "lapsed-hold", "unblock"])
def test_every_way_a_slot_comes_free_queues_its_backfill(
        booking_engine, tiny_network, tiny_catalogue, free, cause):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue)
    slot = backfill.world.slots["S1-XR1"][0]
    free(backfill, slot)
    [freed] = backfill.freed()
    assert (freed.slot_id, freed.cause, freed.state) == (slot, cause, FreedState.PENDING)
    assert [job.payload for job in backfill.jobs() if job.kind == "backfill"] == [
        {"freed_slot_id": freed.id}]


def test_the_first_wave_offers_the_best_ranked_with_reasons_and_messages(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, wave_size=2)
    backfill.cancel(backfill.book(0, backfill.world.slots["S1-XR1"][0]))
    backfill.run_jobs()
    [freed] = backfill.freed()
    assert freed.state is FreedState.OFFERING and freed.first_offer_at == backfill.now
    offers = backfill.offers(freed.id)
    offered = [o for o in offers if o.state is OfferState.OFFERED]
    assert [o.position for o in offered] == [1, 2]
    assert all(o.reasons and o.expires_at == backfill.now + timedelta(minutes=15)
               for o in offered)
    assert all(o.state is OfferState.QUEUED for o in offers[2:])
    kinds = {(m.offer_id, m.kind, m.channel) for m in backfill.messages()}
    assert kinds == {(o.id, OfferMessageKind.OFFER, c) for o in offered
                     for c in ("sms", "email")}


def test_the_first_acceptance_books_the_others_hear_it_has_gone(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, wave_size=3)
    slot = backfill.world.slots["S1-XR1"][0]
    backfill.cancel(backfill.book(0, slot))
    backfill.run_jobs()
    first, second, _third = [o for o in backfill.offers() if o.state is OfferState.OFFERED]
    won = accept_offer(backfill.db, first.id, channel="portal", now=backfill.now)
    lost = accept_offer(backfill.db, second.id, channel="sms", now=backfill.now)
    again = accept_offer(backfill.db, first.id, channel="sms", now=backfill.now)
    assert won.outcome is Outcome.BOOKED and won.appointment_id
    assert lost.outcome is Outcome.GONE and "already been taken" in lost.message
    assert again.outcome is Outcome.ALREADY_BOOKED
    assert again.appointment_id == won.appointment_id
    assert active_per_slot(booking_engine)[slot] == 1
    states = {o.id: o.state for o in backfill.offers()}
    assert states[first.id] is OfferState.ACCEPTED
    assert list(states.values()).count(OfferState.GONE) == 2
    gone = {m.offer_id for m in backfill.messages() if m.kind is OfferMessageKind.GONE}
    assert gone == {o for o, s in states.items() if s is OfferState.GONE}
    assert backfill.freed()[0].state is FreedState.FILLED


def test_an_expired_offer_is_refused_clearly_and_nothing_changes(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue)
    slot = backfill.world.slots["S1-XR1"][0]
    backfill.cancel(backfill.book(0, slot))
    backfill.run_jobs()
    offer = next(o for o in backfill.offers() if o.state is OfferState.OFFERED)
    answer = accept_offer(backfill.db, offer.id, channel="portal",
                          now=backfill.now + timedelta(minutes=16))
    assert answer.outcome is Outcome.EXPIRED and "expired" in answer.message
    assert slot not in active_per_slot(booking_engine)


def test_waves_move_on_when_offers_lapse_and_end_on_the_clerks_list(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, patients=4, wave_size=2)
    backfill.cancel(backfill.book(0, backfill.world.slots["S1-XR1"][0]))
    backfill.run_jobs()
    for minutes in (16, 32, 48):
        backfill.run_jobs(backfill.now + timedelta(minutes=minutes))
    [freed] = backfill.freed()
    assert freed.state is FreedState.CLERK_LIST and freed.wave == 2
    assert {o.state for o in backfill.offers()} == {OfferState.EXPIRED}


def test_a_patient_booked_later_takes_the_earlier_slot_and_the_cascade_ends(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, patients=3, wave_size=1)
    slots = backfill.world.slots["S1-XR1"]
    early = backfill.book(0, slots[0])
    # patient 1 is booked the following week and said yes to earlier offers
    later_slot = _slot_a_week_later(backfill, slots[-1])
    backfill.book(1, later_slot)
    with backfill.db.transaction() as session:
        join_short_notice(session, CLERK, backfill.world.requests[1], ShortNoticeWish(
            frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun"}),
            frozenset({"morning", "afternoon", "evening"}), 50, 24), now=backfill.now)
    backfill.book(2, slots[1])  # patient 2 is booked and not on the list: never offered
    backfill.cancel(early)
    backfill.run_jobs()
    [offer] = [o for o in backfill.offers() if o.state is OfferState.OFFERED]
    assert offer.source == "booked_later" and offer.days_sooner == 7
    assert accept_offer(backfill.db, offer.id, channel="sms",
                        now=backfill.now).outcome is Outcome.BOOKED
    first, second = backfill.freed()
    assert (second.slot_id, second.parent_id, second.depth) == (later_slot, first.id, 1)
    backfill.run_jobs()  # the week-later slot goes to patient 0, free again since cancelling
    [step] = [o for o in backfill.offers(second.id) if o.state is OfferState.OFFERED]
    assert step.source == "not_booked"
    assert accept_offer(backfill.db, step.id, channel="portal",
                        now=backfill.now).outcome is Outcome.BOOKED
    # a booking (not a move) frees nothing: the cascade ends
    assert [f.state for f in backfill.freed()] == [FreedState.FILLED] * 2
    with backfill.db.reading() as session:
        moved = session.scalars(select(Appointment).where(
            Appointment.request_id == backfill.world.requests[1])).all()
    assert sorted(a.state for a in moved) == [AppointmentState.BOOKED,
                                               AppointmentState.CANCELLED]


def _slot_a_week_later(backfill, template_slot_id: int) -> int:
    from booking_api.slots.models import DiarySession, Slot

    with backfill.db.transaction() as session:
        slot = session.get(Slot, template_slot_id)
        diary = session.get(DiarySession, slot.session_id)
        week = timedelta(days=7)
        later_diary = DiarySession(room_id=diary.room_id, session_date=diary.session_date + week,
                                   period=diary.period, template_id=diary.template_id)
        session.add(later_diary)
        session.flush()
        copy = Slot(session_id=later_diary.id, room_id=slot.room_id, site_id=slot.site_id,
                    start_at=slot.start_at + week, end_at=slot.end_at + week,
                    modality=slot.modality, families=slot.families,
                    template_id=slot.template_id)
        session.add(copy)
        session.flush()
        return copy.id


def test_the_cli_shows_a_freed_slots_trail_in_ranked_order_with_reasons(
        booking_engine, tiny_network, tiny_catalogue, monkeypatch):
    from typer.testing import CliRunner

    from booking_api.core.config import get_settings
    from cdip_cli.main import app

    if booking_engine.dialect.name != "sqlite":
        pytest.skip("one database is enough for the command's output")
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, wave_size=2)
    backfill.cancel(backfill.book(0, backfill.world.slots["S1-XR1"][0]))
    backfill.run_jobs()
    [freed] = backfill.freed()
    monkeypatch.setenv("CDIP_DATABASE_URL", booking_engine.url.render_as_string(False))
    monkeypatch.setenv("CDIP_ENVIRONMENT", "test")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["backfill", "trail", str(freed.id), "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    [trail] = json.loads(result.output)
    assert [o["position"] for o in trail["offers"]] == sorted(
        o["position"] for o in trail["offers"])
    assert trail["offers"][0]["state"] == "offered"
    assert "routine referral" in trail["offers"][0]["reasons"]


def test_the_cli_redirects_a_slot_to_a_chosen_request_and_names_a_bad_one(
        booking_engine, tiny_network, tiny_catalogue, monkeypatch):
    from typer.testing import CliRunner

    from booking_api.core.config import get_settings
    from cdip_cli.main import app

    if booking_engine.dialect.name != "sqlite":
        pytest.skip("one database is enough for the command's output")
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, wave_size=1)
    backfill.cancel(backfill.book(0, backfill.world.slots["S1-XR1"][0]))
    backfill.run_jobs()
    [freed] = backfill.freed()
    chosen = backfill.offers(freed.id)[-1]
    monkeypatch.setenv("CDIP_DATABASE_URL", booking_engine.url.render_as_string(False))
    monkeypatch.setenv("CDIP_ENVIRONMENT", "test")
    monkeypatch.setenv("CDIP_SMS_QUIET_HOURS", "off")
    monkeypatch.setattr("booking_api.core.columns.utc_now", lambda: backfill.now)  # the world's
    get_settings.cache_clear()
    try:
        bad = CliRunner().invoke(app, ["backfill", "redirect", str(freed.id), "--request",
                                       "999999", "--reason", "asked", "--by", "jsmith"])
        good = CliRunner().invoke(app, ["backfill", "redirect", str(freed.id), "--request",
                                        str(chosen.request_id), "--reason",
                                        "rang and asked for it", "--by", "jsmith"])
    finally:
        get_settings.cache_clear()
    assert bad.exit_code == 1 and "request_id" in bad.output
    assert good.exit_code == 0, good.output
    states = {o.request_id: o.state for o in backfill.offers(freed.id)}
    assert states[chosen.request_id] is OfferState.OFFERED
    assert list(states.values()).count(OfferState.OFFERED) == 1


def test_a_wave_of_six_offers_reads_the_database_as_often_as_a_wave_of_two(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, patients=21, wave_size=2)
    first, second = backfill.world.slots["S1-XR1"][:2]
    backfill.cancel(backfill.book(0, first))
    two = _reads_of(backfill.db.engine, backfill.run_jobs)
    backfill.policy = dataclasses.replace(backfill.policy, wave_size=6)
    backfill.cancel(backfill.book(1, second))
    six = _reads_of(backfill.db.engine, backfill.run_jobs)
    offered = [len([o for o in backfill.offers(f.id) if o.state is OfferState.OFFERED])
               for f in backfill.freed()]
    assert offered == [2, 6]
    assert len(six) == len(two), [s.split("FROM")[-1][:50] for s in six]


def _reads_of(engine, run) -> list[str]:
    """The SELECT statements `run()` sends."""
    statements: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return [s for s in statements if s.lstrip().upper().startswith("SELECT")]


def test_a_slot_freed_too_close_to_its_start_goes_to_the_clerks_list_unoffered(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue)
    slot = backfill.world.slots["S1-XR1"][0]
    appointment = backfill.book(0, slot)
    with backfill.db.reading() as session:
        start = session.get(Appointment, appointment).start_at
    backfill.now = start.replace(tzinfo=backfill.now.tzinfo) - timedelta(hours=2)
    backfill.cancel(appointment)
    [freed] = backfill.freed()
    assert freed.state is FreedState.CLERK_LIST and "too soon" in freed.state_reason
    assert [job for job in backfill.jobs() if job.kind == "backfill"] == []
    assert backfill.offers() == []


def test_a_patient_past_the_weekly_offer_limit_is_passed_over_with_the_reason(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, patients=4, wave_size=3,
                      weekly_offer_limit=1)
    first, second = backfill.world.slots["S1-XR1"][:2]
    backfill.cancel(backfill.book(0, first))
    backfill.run_jobs()
    offered_once = {o.patient_id for o in backfill.offers() if o.state is OfferState.OFFERED}
    backfill.now += timedelta(minutes=20)
    backfill.run_jobs()  # the first slot's offers lapse
    backfill.cancel(backfill.book(0, second))
    backfill.run_jobs()
    [_, freed] = backfill.freed()
    passed_over = [o for o in backfill.offers(freed.id) if o.patient_id in offered_once]
    assert len(offered_once) == 3 and len(passed_over) == 3
    assert all(o.state is OfferState.WITHDRAWN and "the limit is 1" in o.note
               for o in passed_over)


def test_waves_stop_when_the_slot_comes_too_close_and_it_goes_to_the_clerks_list(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, patients=6, wave_size=1)
    slot = backfill.world.slots["S1-XR1"][0]
    appointment = backfill.book(0, slot)
    with backfill.db.reading() as session:
        start = session.get(Appointment, appointment).start_at.replace(tzinfo=backfill.now.tzinfo)
    backfill.now = start - timedelta(hours=3, minutes=10)
    backfill.cancel(appointment)
    backfill.run_jobs()
    [offer] = [o for o in backfill.offers() if o.state is OfferState.OFFERED]
    assert offer.expires_at == start - timedelta(hours=3)  # the last moment offers may run
    backfill.run_jobs(start - timedelta(hours=3))
    [freed] = backfill.freed()
    assert freed.state is FreedState.CLERK_LIST and "too close" in freed.state_reason
    assert [o.state for o in backfill.offers()].count(OfferState.OFFERED) == 0
    assert {o.state for o in backfill.offers()} <= {OfferState.EXPIRED, OfferState.WITHDRAWN}


def test_an_offer_that_could_be_taken_inside_the_patients_notice_is_not_sent(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, patients=3, wave_size=2)
    slot = backfill.world.slots["S1-XR1"][0]
    appointment = backfill.book(0, slot)
    with backfill.db.transaction() as session:
        for patient in (1, 2):
            join_short_notice(session, CLERK, backfill.world.requests[patient],
                              ShortNoticeWish(frozenset(_EVERY_DAY), frozenset(_EVERY_PERIOD),
                                              50, 24), now=backfill.now)
        start = session.get(Appointment, appointment).start_at.replace(tzinfo=backfill.now.tzinfo)
    backfill.now = start - timedelta(hours=24, minutes=5)  # ranked in time, taken too late
    backfill.cancel(appointment)
    backfill.run_jobs()
    offers = backfill.offers()
    assert offers and all(o.state is OfferState.WITHDRAWN for o in offers)
    assert all("24 hours' notice" in o.note for o in offers)
    assert backfill.freed()[0].state is FreedState.CLERK_LIST


_EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EVERY_PERIOD = ("morning", "afternoon", "evening")


def test_the_patient_who_gave_the_slot_up_is_not_offered_it_back(
        booking_engine, tiny_network, tiny_catalogue):
    backfill = _world(booking_engine, tiny_network, tiny_catalogue, patients=3, wave_size=5)
    backfill.cancel(backfill.book(0, backfill.world.slots["S1-XR1"][0]))
    backfill.run_jobs()
    ranked = {o.request_id for o in backfill.offers()}
    assert ranked and backfill.world.requests[0] not in ranked

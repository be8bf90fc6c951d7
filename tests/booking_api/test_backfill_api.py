"""Backfill over HTTP, on SQLite and PostgreSQL: an offer's signed link shows it (GET
changes nothing) and only a POST books; a link that is not ours is 404 naming the token;
a text BOOK through Twilio's signed webhook answers an offer; staff read the trail and stop
a slot's offers (bad input named, nothing changed); offer texts go through the real Twilio
client to the fake Twilio, and an offer no longer open is not sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_api.access.models import AccountRole
from booking_api.backfill.delivery import OfferSender
from booking_api.backfill.flows import accept_offer, run_wave
from booking_api.backfill.links import offer_token
from booking_api.backfill.models import FreedState, OfferState
from booking_api.outbox.providers import providers_from_settings
from tests.booking_api.access_support import MovableClock, add_staff, make_app, staff_headers
from tests.booking_api.backfill_support import Backfill, backfill_of
from tests.booking_api.booking_world import (
    NOW,
    active_per_slot,
    booking_engine,
    build_world,
    migrated_engine,
)
from tests.booking_api.outbox_support import messaging, phone_of
from tests.booking_api.test_twilio_webhooks import INBOUND, PUBLIC, TOKEN, _answer, _signed
from tests.patient_portal.page_client import PageClient

__all__ = ["booking_engine", "messaging", "migrated_engine"]
SECRET = "backfill-api-test-secret-key-0123456789"


@pytest.fixture
def offered(booking_engine: Engine, tiny_network, tiny_catalogue
            ) -> Iterator[tuple[TestClient, Backfill]]:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=4)
    backfill = backfill_of(booking_engine, world, wave_size=2)
    app = make_app(booking_engine.url.render_as_string(hide_password=False),
                   MovableClock(NOW), public_base_url=PUBLIC, twilio_auth_token=TOKEN,
                   run_jobs_in_server=False, secret_key=SECRET, sms_quiet_hours="off")
    backfill.cancel(backfill.book(3, world.slots["S1-XR1"][0]))
    [freed] = backfill.freed()
    run_wave(backfill.db, freed.id, NOW, backfill.policy)
    add_staff(booking_engine, "clerk", AccountRole.CLERK)
    with TestClient(app) as client:
        yield client, backfill


def _live(backfill: Backfill):
    return [o for o in backfill.offers() if o.state is OfferState.OFFERED]


def test_the_link_shows_the_offer_and_only_a_post_books_it(offered) -> None:
    client, backfill = offered
    offer = _live(backfill)[0]
    token = offer_token(SECRET, offer.id)
    shown = client.get(f"/api/offers/{token}")
    assert shown.status_code == 200 and shown.json()["open"] is True
    assert backfill.world.slots["S1-XR1"][0] not in active_per_slot(backfill.world.engine)
    booked = client.post(f"/api/offers/{token}/accept")
    assert booked.status_code == 200 and booked.json()["outcome"] == "booked"
    assert client.get(f"/api/offers/{token}").json()["open"] is False


@pytest.mark.parametrize("token", ["not-a-real-token", offer_token("another secret", 1)])
def test_a_link_that_is_not_ours_is_not_found_naming_the_token(offered, token) -> None:
    client, _ = offered
    for response in (client.get(f"/api/offers/{token}"),
                     client.post(f"/api/offers/{token}/accept")):
        assert response.status_code == 404 and response.json()["field"] == "token"


def test_a_text_book_through_the_webhook_answers_the_offer(offered) -> None:
    client, backfill = offered
    first, second = _live(backfill)
    index = backfill.world.patients.index(second.patient_id)
    client.post(f"/api/offers/{offer_token(SECRET, first.id)}/accept")
    answer = _answer(_signed(client, INBOUND, {
        "MessageSid": "SM" + "2" * 32, "From": phone_of(index), "To": "+447700900999",
        "Body": "BOOK", "AccountSid": "AC" + "0" * 32}))
    assert "already been taken" in answer


def test_staff_read_the_trail_and_stop_the_offers(offered) -> None:
    client, backfill = offered
    headers = staff_headers(client, "clerk")
    [freed] = backfill.freed()
    trail = client.get(f"/api/staff/backfill/freed/{freed.id}/trail", headers=headers)
    assert trail.status_code == 200
    positions = [o["position"] for o in trail.json()["offers"]]
    assert positions == sorted(positions) and trail.json()["offers"][0]["reasons"]
    assert client.get(f"/api/staff/backfill/freed/{freed.id}/trail").status_code == 401
    blank = client.post(f"/api/staff/backfill/freed/{freed.id}/stop", json={"reason": ""},
                        headers=headers)
    assert blank.status_code == 422 and "reason" in blank.text
    assert backfill.freed()[0].state is FreedState.OFFERING
    stopped = client.post(f"/api/staff/backfill/freed/{freed.id}/stop",
                          json={"reason": "the room is closing"}, headers=headers)
    assert stopped.status_code == 200 and stopped.json()["freed"]["state"] == "stopped"
    assert {o.state for o in backfill.offers()} <= {OfferState.GONE, OfferState.WITHDRAWN}


def test_staff_redirect_a_slot_to_a_chosen_request_and_a_bad_one_changes_nothing(
        offered) -> None:
    client, backfill = offered
    headers = staff_headers(client, "clerk")
    [freed] = backfill.freed()
    live = {o.id for o in _live(backfill)}
    chosen = next(o for o in backfill.offers() if o.state is OfferState.QUEUED)
    url = f"/api/staff/backfill/freed/{freed.id}/redirect"
    bad = client.post(url, json={"request_id": 999999, "reason": "asked"}, headers=headers)
    assert bad.status_code in (404, 409, 422) and "request_id" in bad.text
    assert {o.id for o in _live(backfill)} == live
    moved = client.post(url, json={"request_id": chosen.request_id,
                                   "reason": "rang and asked for it"}, headers=headers)
    assert moved.status_code == 200, moved.text
    states = {o["request_id"]: o["state"] for o in moved.json()["offers"]}
    assert states[chosen.request_id] == "offered"
    assert list(states.values()).count("offered") == 1
    assert {o.state for o in backfill.offers() if o.id in live} == {OfferState.GONE}


def test_offer_texts_go_to_twilio_and_a_closed_offer_is_not_sent(messaging) -> None:
    backfill = backfill_of(messaging.world.engine, messaging.world, wave_size=2)
    backfill.cancel(backfill.book(3, messaging.world.slots["S1-XR1"][0]))
    backfill.run_jobs()
    first, second = _live(backfill)
    accept_offer(backfill.db, first.id, channel="portal", now=NOW)
    sender = OfferSender(backfill.db, providers_from_settings(messaging.settings),
                         messaging.clock, SECRET, "test", quiet_hours=backfill.policy.quiet_hours)
    fates = {}
    for _ in range(3):
        for message_id in sender.claim(20):
            fates[message_id] = sender.deliver(message_id)
    by_kind = {(m.offer_id, m.kind.value, m.channel): m.state for m in backfill.messages()}
    assert by_kind[(first.id, "offer", "sms")] == "skipped"  # accepted before it went
    assert by_kind[(second.id, "offer", "sms")] == "skipped"  # gone before it went
    assert by_kind[(second.id, "gone", "sms")] == "sent"
    texts = [m["Body"] if isinstance(m, dict) else m.body for m in messaging.texts()]
    assert len(texts) == 1 and "has been taken" in texts[0]


def test_the_portal_page_shows_the_offer_and_its_button_takes_it(offered) -> None:
    client, backfill = offered
    secure = TestClient(client.app, base_url="https://testserver")  # the public URL is https
    pages = PageClient(secure)
    offer = _live(backfill)[0]
    token = offer_token(SECRET, offer.id)
    shown = pages.get(f"/offers/{token}")
    assert shown.status_code == 200 and "Take this appointment" in shown.text
    assert backfill.world.slots["S1-XR1"][0] not in active_per_slot(backfill.world.engine)
    refused = secure.post(f"/offers/{token}", data={})  # no CSRF token: refused
    assert refused.status_code == 400
    taken = pages.post(f"/offers/{token}", {})
    assert taken.status_code == 200 and "Your new appointment is booked" in taken.text
    assert active_per_slot(backfill.world.engine)[backfill.world.slots["S1-XR1"][0]] == 1
    assert pages.get("/offers/not-a-real-token").status_code == 404

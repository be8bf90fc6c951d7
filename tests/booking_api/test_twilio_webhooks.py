"""Twilio's webhooks, on SQLite and PostgreSQL: accepted only when signed with our auth
token over the public URL (403 otherwise, nothing changed); a malformed one is answered 4xx
naming what is wrong; status callbacks keep the furthest status per message; STOP is
recorded and START undoes it; CONFIRM and CHANGE are answered; anything else gets help."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from twilio.request_validator import RequestValidator

from booking_api.access.models import AccountRole
from booking_api.appointments import services
from booking_api.audit.models import AuditEvent
from booking_api.core.db import transaction
from booking_api.outbox.models import DeliveryReport
from booking_api.patients.models import ContactPreference, Patient
from tests.booking_api.access_support import MovableClock, add_staff, make_app, staff_headers
from tests.booking_api.booking_world import (
    CLERK,
    NOW,
    World,
    booking_engine,
    build_world,
    migrated_engine,
)
from tests.booking_api.outbox_support import set_contact

__all__ = ["booking_engine", "migrated_engine"]
TOKEN = "webhook-test-token"
PUBLIC = "https://book.example.nhs.uk"
STATUS = "/api/webhooks/twilio/status"
INBOUND = "/api/webhooks/twilio/inbound"
PHONE = "+447700900321"
SID = "SM" + "ab" * 16


@pytest.fixture
def hooks(booking_engine: Engine, tiny_network, tiny_catalogue
          ) -> Iterator[tuple[TestClient, World]]:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=2)
    set_contact(booking_engine, world.patients[0], ContactPreference.BOTH, phone=PHONE,
                email="p@example.com")
    app = make_app(booking_engine.url.render_as_string(hide_password=False),
                   MovableClock(NOW), public_base_url=PUBLIC, twilio_auth_token=TOKEN,
                   run_jobs_in_server=False)
    with TestClient(app) as client:
        yield client, world


def _signed(client: TestClient, path: str, params: dict[str, str], *, token: str = TOKEN,
            url: str | None = None):
    signature = RequestValidator(token).compute_signature(url or PUBLIC + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def _status(status: str, sid: str = SID, **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32,
            "To": PHONE, **extra}


def _reply(body: str, sender: str = PHONE) -> dict[str, str]:
    return {"MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "To": "+447700900999",
            "Body": body, "AccountSid": "AC" + "0" * 32}


def _answer(response) -> str | None:
    message = ElementTree.fromstring(response.text).find("Message")
    return message.text if message is not None else None


def _reports(world: World) -> dict[str, str]:
    with transaction(world.engine) as session:
        return {r.provider_id: r.status for r in session.scalars(select(DeliveryReport))}


def _opted_out(world: World) -> bool:
    with transaction(world.engine) as session:
        return session.get(Patient, world.patients[0]).sms_opt_out


def test_a_signed_status_callback_keeps_the_furthest_status(hooks) -> None:
    client, world = hooks
    for status in ("sent", "delivered", "sent"):  # the late 'sent' arrives out of order
        assert _signed(client, STATUS, _status(status)).status_code == 200

    assert _reports(world) == {SID: "delivered"}


@pytest.mark.parametrize(("headers", "why"), [
    ({}, "missing"),
    ({"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}, "does not match"),
])
def test_an_unsigned_or_badly_signed_webhook_is_refused_and_changes_nothing(
        hooks, headers: dict[str, str], why: str) -> None:
    client, world = hooks
    for path, params in ((STATUS, _status("delivered")), (INBOUND, _reply("STOP"))):
        response = client.post(path, data=params, headers=headers)
        assert response.status_code == 403 and why in response.json()["detail"]
    assert _reports(world) == {} and not _opted_out(world)


@pytest.mark.parametrize("change", ["token", "url", "param"])
def test_a_signature_over_anything_else_is_refused(hooks, change: str) -> None:
    client, world = hooks
    params = _reply("STOP")
    token, url = TOKEN, None
    if change == "token":
        token = "someone-elses-token"
    elif change == "url":
        url = "http://testserver" + INBOUND  # the URL the app sees, not the public one
    signature = RequestValidator(token).compute_signature(url or PUBLIC + INBOUND, params)
    if change == "param":
        params["Body"] = "START"

    response = client.post(INBOUND, data=params, headers={"X-Twilio-Signature": signature})

    assert response.status_code == 403 and not _opted_out(world)


@pytest.mark.parametrize(("params", "field"), [
    (_status("delivered", sid="not-a-sid"), "MessageSid"),
    (_status("teleported"), "MessageStatus"),
    (_status("undelivered", ErrorCode="thirty"), "ErrorCode"),
    ({"MessageStatus": "sent"}, "MessageSid"),
])
def test_a_malformed_status_callback_names_the_field_and_changes_nothing(
        hooks, params: dict[str, str], field: str) -> None:
    client, world = hooks
    response = _signed(client, STATUS, params)

    assert response.status_code == 400 and response.json()["field"] == field
    assert _reports(world) == {}


@pytest.mark.parametrize(("params", "field"), [
    ({**_reply("hi"), "From": "07700 900321"}, "From"),
    ({**_reply("hi"), "MessageSid": ""}, "MessageSid"),
    ({**_reply("x" * 1601)}, "Body"),
])
def test_a_malformed_inbound_text_names_the_field(hooks, params, field: str) -> None:
    client, _world = hooks
    response = _signed(client, INBOUND, params)

    assert response.status_code == 400 and response.json()["field"] == field


def test_a_body_that_is_not_a_form_is_refused_with_415(hooks) -> None:
    client, _world = hooks
    response = client.post(STATUS, json=_status("sent"))

    assert response.status_code == 415 and response.json()["field"] == "Content-Type"


def test_stop_is_recorded_and_start_undoes_it(hooks) -> None:
    client, world = hooks
    stop = _signed(client, INBOUND, _reply("STOP"))
    assert stop.status_code == 200 and _answer(stop) is None  # Twilio answers STOP itself
    assert _opted_out(world)

    _signed(client, INBOUND, _reply("start"))

    assert not _opted_out(world)
    with transaction(world.engine) as session:
        actions = [e.action for e in session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "patient").order_by(AuditEvent.id))]
    assert actions == ["patient.sms_opt_out", "patient.sms_opt_in"]


def _booked(world: World) -> int:
    with transaction(world.engine) as session:
        return services.book_slot(session, CLERK, world.requests[0],
                                  world.slots["S1-XR1"][0], now=NOW).id


def test_confirm_is_noted_against_the_next_appointment_and_thanked(hooks) -> None:
    client, world = hooks
    appointment_id = _booked(world)

    answer = _answer(_signed(client, INBOUND, _reply("Confirm, thanks")))

    assert "thank you" in answer and "S1 hospital" in answer
    with transaction(world.engine) as session:
        noted = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "appointment.confirmed_by_reply")).all()
    assert [e.entity_id for e in noted] == [str(appointment_id)]


def test_change_is_answered_with_the_portals_link(hooks) -> None:
    client, world = hooks
    _booked(world)

    answer = _answer(_signed(client, INBOUND, _reply("change please")))

    assert PUBLIC in answer and "stays booked" in answer


@pytest.mark.parametrize("body", ["what time is it?", "", "Can I bring my mum"])
def test_anything_else_gets_a_helpful_answer(hooks, body: str) -> None:
    client, world = hooks
    _booked(world)

    answer = _answer(_signed(client, INBOUND, _reply(body)))

    assert "CONFIRM" in answer and "CHANGE" in answer


def test_a_number_we_do_not_know_is_told_where_to_go(hooks) -> None:
    client, _world = hooks
    answer = _answer(_signed(client, INBOUND, _reply("CONFIRM", sender="+447700900777")))

    assert "could not find an upcoming appointment" in answer


def test_staff_routes_list_dead_letters_to_clerks_only(hooks) -> None:
    client, world = hooks
    add_staff(world.engine, "cora.clerk", AccountRole.CLERK)
    add_staff(world.engine, "vic.vetting", AccountRole.VETTING)

    clerk = client.get("/api/staff/messages/dead", headers=staff_headers(client, "cora.clerk"))
    vetting = client.get("/api/staff/messages/dead",
                         headers=staff_headers(client, "vic.vetting"))

    assert clerk.status_code == 200 and clerk.json() == []
    assert vetting.status_code == 403


def test_resending_something_that_is_not_a_dead_letter_is_refused_naming_it(hooks) -> None:
    client, world = hooks
    add_staff(world.engine, "cora.clerk", AccountRole.CLERK)
    _booked(world)
    headers = {**staff_headers(client, "cora.clerk"), "Idempotency-Key": str(uuid.uuid4())}

    [first, *_] = client.get(f"/api/staff/messages?patient_id={world.patients[0]}",
                             headers=headers).json()

    refused = client.post(f"/api/staff/messages/{first['id']}/resend", headers=headers)
    missing = client.post("/api/staff/messages/999999/resend",
                          headers={**headers, "Idempotency-Key": str(uuid.uuid4())})

    assert refused.status_code == 409 and "only a dead letter" in refused.json()["detail"]
    assert refused.json()["field"] == "message_id"
    assert missing.status_code == 404

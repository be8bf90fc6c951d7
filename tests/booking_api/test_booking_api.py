"""The booking API over HTTP on SQLite and PostgreSQL: patients on their own requests only
(another patient's appointment is 404), staff by role, a plain 409 for a taken slot, every
refusal naming its reason or field, and Idempotency-Key replays."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_api.access.models import AccountRole
from booking_api.core.db import transaction
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from tests.booking_api.access_support import MovableClock, add_staff, make_app, staff_headers
from tests.booking_api.booking_world import (
    World,
    active_per_slot,
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]


@dataclass
class Api:
    client: TestClient
    world: World
    clock: MovableClock

    def patient(self, index: int) -> dict[str, str]:
        with transaction(self.world.engine) as session:
            request = session.get(Request, self.world.requests[index])
            born = session.get(Patient, request.patient_id).date_of_birth
            reference = request.booking_reference
        response = self.client.post("/api/auth/patient/sign-in", json={
            "booking_reference": reference, "date_of_birth": born.isoformat()})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def post(self, path: str, headers: dict[str, str], body: dict | None = None,
             key: str | None = None):
        return self.client.post(path, json=body, headers={
            **headers, "Idempotency-Key": key or str(uuid.uuid4())})


@pytest.fixture
def api(booking_engine: Engine, tiny_network, tiny_catalogue) -> Iterator[Api]:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=3)
    clock = MovableClock()
    url = booking_engine.url.render_as_string(hide_password=False)
    with TestClient(make_app(url, clock)) as client:
        for name, role in (("cora.clerk", AccountRole.CLERK), ("ada.admin", AccountRole.ADMIN),
                           ("vic.vetting", AccountRole.VETTING)):
            add_staff(booking_engine, name, role)
        yield Api(client, world, clock)


def test_a_patient_searches_holds_books_lists_and_cancels(api: Api) -> None:
    me, request_id = api.patient(0), api.world.requests[0]

    found = api.client.get(f"/api/requests/{request_id}/slots?sort=nearest&limit=3",
                           headers=me).json()
    slot_id = found["slots"][0]["slot_id"]
    held = api.post("/api/appointments/holds", me, {"request_id": request_id,
                                                    "slot_id": slot_id})
    booked = api.post(f"/api/appointments/{held.json()['id']}/book", me)
    mine = api.client.get("/api/appointments", headers=me).json()
    cancelled = api.post(f"/api/appointments/{held.json()['id']}/cancel", me,
                         {"reason": "I have moved"})

    assert [site["site_id"] for site in found["sites"]] == ["S1", "S2"]
    assert held.status_code == 201 and held.json()["fhir_status"] == "pending"
    assert booked.json()["fhir_status"] == "booked"
    assert [(a["id"], a["site_id"]) for a in mine] == [(held.json()["id"], "S1")]
    assert cancelled.json()["fhir_status"] == "cancelled"
    assert api.client.get(f"/api/slots/{slot_id}", headers=me).json()["fhir_status"] == "free"


def test_a_taken_slot_gets_409_that_time_has_just_been_taken(api: Api) -> None:
    slot_id = api.world.slots["S1-XR1"][0]
    first = api.post("/api/appointments", api.patient(0),
                     {"request_id": api.world.requests[0], "slot_id": slot_id})

    second = api.post("/api/appointments", api.patient(1),
                      {"request_id": api.world.requests[1], "slot_id": slot_id})

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["detail"] == "that time has just been taken"
    assert second.json()["field"] == "slot_id"


def test_a_replay_returns_the_first_response_and_books_once(api: Api) -> None:
    me, key = api.patient(0), str(uuid.uuid4())
    body = {"request_id": api.world.requests[0], "slot_id": api.world.slots["S1-XR1"][1]}

    first = api.post("/api/appointments", me, body, key=key)
    again = api.post("/api/appointments", me, body, key=key)
    other_body = api.post("/api/appointments", me,
                          {**body, "slot_id": api.world.slots["S1-XR1"][2]}, key=key)

    assert again.status_code == first.status_code == 201
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other_body.status_code == 422 and "Idempotency-Key" in other_body.text
    assert active_per_slot(api.world.engine) == {body["slot_id"]: 1}


def test_a_post_without_an_idempotency_key_is_refused_naming_the_header(api: Api) -> None:
    response = api.client.post("/api/appointments", headers=api.patient(0), json={
        "request_id": api.world.requests[0], "slot_id": api.world.slots["S1-XR1"][0]})

    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]


def test_a_patient_can_neither_see_nor_change_another_patients_appointment(api: Api) -> None:
    theirs = api.post("/api/appointments", api.patient(0), {
        "request_id": api.world.requests[0], "slot_id": api.world.slots["S1-XR1"][0]}).json()
    me = api.patient(1)

    answers = [
        api.client.get(f"/api/appointments/{theirs['id']}", headers=me),
        api.post(f"/api/appointments/{theirs['id']}/cancel", me, {"reason": "not mine"}),
        api.post(f"/api/appointments/{theirs['id']}/reschedule", me,
                 {"slot_id": api.world.slots["S2-XR1"][0], "reason": "not mine"}),
        api.client.get(f"/api/requests/{api.world.requests[0]}/slots", headers=me),
        api.post("/api/appointments", me, {"request_id": api.world.requests[0],
                                           "slot_id": api.world.slots["S2-XR1"][0]}),
    ]

    assert [a.status_code for a in answers] == [404] * 5
    assert api.client.get("/api/appointments", headers=me).json() == []
    assert active_per_slot(api.world.engine) == {api.world.slots["S1-XR1"][0]: 1}


def test_a_clerk_cannot_do_an_administrators_actions(api: Api) -> None:
    clerk, admin = staff_headers(api.client, "cora.clerk"), staff_headers(api.client, "ada.admin")
    slot_id = api.world.slots["S2-XR1"][5]

    refused = [api.post(f"/api/slots/{slot_id}/withdraw", clerk, {"reason": "duplicate"}),
               api.post("/api/holds/sweep", clerk)]
    allowed = [api.post(f"/api/slots/{slot_id}/withdraw", admin, {"reason": "duplicate"}),
               api.post("/api/holds/sweep", admin)]

    assert [r.status_code for r in refused] == [403, 403]
    assert [r.status_code for r in allowed] == [200, 200]
    assert allowed[0].json()["fhir_status"] == "entered-in-error"


def test_a_patient_cannot_record_outcomes_or_block_slots(api: Api) -> None:
    me = api.patient(0)
    booked = api.post("/api/appointments", me, {
        "request_id": api.world.requests[0], "slot_id": api.world.slots["S1-XR1"][0]}).json()

    answers = [api.post(f"/api/appointments/{booked['id']}/attended", me),
               api.post(f"/api/slots/{api.world.slots['S1-XR1'][1]}/block", me,
                        {"reason": "mine now"})]

    assert [a.status_code for a in answers] == [401, 401]


def test_a_blocked_slot_is_refused_with_the_reason(api: Api) -> None:
    clerk, slot_id = staff_headers(api.client, "cora.clerk"), api.world.slots["S1-XR1"][3]
    assert api.post(f"/api/slots/{slot_id}/block", clerk,
                    {"reason": "room closed"}).json()["fhir_status"] == "busy-unavailable"

    response = api.post("/api/appointments", api.patient(0),
                        {"request_id": api.world.requests[0], "slot_id": slot_id})

    assert response.status_code == 409 and "blocked" in response.json()["detail"]


def test_booking_an_expired_hold_is_refused_and_changes_nothing(api: Api) -> None:
    me = api.patient(0)
    held = api.post("/api/appointments/holds", me, {
        "request_id": api.world.requests[0], "slot_id": api.world.slots["S1-XR1"][0]}).json()
    api.clock.advance(timedelta(minutes=11))

    response = api.post(f"/api/appointments/{held['id']}/book", me)

    assert response.status_code == 409 and response.json()["code"] == "hold_expired"
    assert api.client.get(f"/api/appointments/{held['id']}",
                          headers=me).json()["state"] == "held"


def test_a_clerk_books_on_a_patients_behalf_with_an_audited_override(api: Api) -> None:
    with transaction(api.world.engine) as session:
        session.get(Request, api.world.requests[2]).latest_date = date(2026, 12, 5)
    body = {"request_id": api.world.requests[2], "slot_id": api.world.slots["S1-XR1"][0],
            "reason": "patient phoned", "overrides": [
                {"rule_id": "clinical-window", "reason": "radiologist agreed a later date"}]}

    by_clerk = api.post("/api/staff/bookings", staff_headers(api.client, "cora.clerk"), body)
    by_vetting = api.post("/api/staff/bookings", staff_headers(api.client, "vic.vetting"), body)
    audit = api.client.get("/api/admin/audit?entity=appointment",
                           headers=staff_headers(api.client, "ada.admin")).json()

    assert by_clerk.status_code == 403 and by_clerk.json()["field"] == "overrides"
    assert by_vetting.status_code == 201
    booked = [e for e in audit if e["action"] == "appointment.booked"]
    assert booked[0]["reason"] == "patient phoned"
    assert booked[0]["after"]["overrides"][0]["rule_id"] == "clinical-window"


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/appointments", {"slot_id": 1}, "request_id"),
    ("/api/appointments", {"request_id": 1, "slot_id": 0}, "slot_id"),
    ("/api/appointments", {"request_id": "one", "slot_id": 1}, "request_id"),
    ("/api/appointments/holds", {"request_id": 1}, "slot_id"),
    ("/api/appointments/1/cancel", {}, "reason"),
    ("/api/appointments/1/cancel", {"reason": ""}, "reason"),
    ("/api/appointments/1/cancel", {"reason": "   "}, "reason"),
    ("/api/appointments/1/reschedule", {"reason": "later"}, "slot_id"),
    ("/api/staff/bookings", {"request_id": 1, "slot_id": 1}, "reason"),
    ("/api/staff/bookings", {"request_id": 1, "slot_id": 1, "reason": "x",
                             "overrides": [{"rule_id": "clinical-window"}]}, "reason"),
])
def test_bad_input_is_refused_naming_the_field(api: Api, path, body, field) -> None:
    headers = staff_headers(api.client, "cora.clerk")
    if path.endswith("/cancel"):
        api.post("/api/appointments", headers, {"request_id": api.world.requests[0],
                                                "slot_id": api.world.slots["S1-XR1"][0]})

    response = api.post(path, headers, body)

    assert response.status_code == 422, response.text
    assert field in response.text
    assert active_per_slot(api.world.engine) in ({}, {api.world.slots["S1-XR1"][0]: 1})

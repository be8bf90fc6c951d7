"""Sessions end when their holder says so: signing out (staff or patient) revokes the token
on the server at once, in every process; signing out everywhere ends every sign-in; a staff
member changes their own password (the current one required, the policy checked), which
ends their other sign-ins."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_api.access.models import AccountRole
from tests.booking_api.access_support import (
    PASSWORD,
    MovableClock,
    add_staff,
    audit_events,
    bearer,
    client,
    clock,
    engine,
    make_app,
    migrated_url,
    patient_sign_in,
    shared_database,
    staff_headers,
)

__all__ = ["client", "clock", "engine", "migrated_url", "shared_database"]  # fixtures
NEW_PASSWORD = "a brand new pass phrase"


def test_staff_sign_out_revokes_the_token_at_once(engine: Engine, client: TestClient
                                                  ) -> None:
    add_staff(engine, "sam.clerk", AccountRole.CLERK)
    headers = staff_headers(client, "sam.clerk")
    other_sign_in = staff_headers(client, "sam.clerk")

    assert client.post("/api/auth/sign-out", headers=headers).status_code == 204

    refused = client.get("/api/auth/me", headers=headers)
    assert refused.status_code == 401 and "signed out" in refused.json()["detail"]
    assert client.get("/api/auth/me", headers=other_sign_in).status_code == 200
    assert [e.entity for e in audit_events(engine, "sign_out")] == ["staff_user"]


def test_patient_sign_out_revokes_the_token_at_once(
        client: TestClient, one_slot: dict[str, int]) -> None:
    headers = bearer(patient_sign_in(client))

    assert client.post("/api/auth/sign-out", headers=headers).status_code == 204

    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert client.get("/api/appointments", headers=headers).status_code == 401


def test_a_sign_out_in_one_process_holds_in_another(
        migrated_url: str, clock: MovableClock, engine: Engine) -> None:
    add_staff(engine, "sam.clerk", AccountRole.CLERK)
    with TestClient(make_app(migrated_url, clock)) as first, \
            TestClient(make_app(migrated_url, clock)) as second:
        headers = staff_headers(first, "sam.clerk")
        assert second.get("/api/auth/me", headers=headers).status_code == 200

        second.post("/api/auth/sign-out", headers=headers)

        assert first.get("/api/auth/me", headers=headers).status_code == 401


def test_signing_out_everywhere_ends_every_sign_in(
        engine: Engine, client: TestClient, one_slot: dict[str, int]) -> None:
    add_staff(engine, "sam.clerk", AccountRole.CLERK)
    staff = [staff_headers(client, "sam.clerk") for _ in range(3)]
    patient = [bearer(patient_sign_in(client)) for _ in range(2)]

    assert client.post("/api/auth/sign-out-everywhere", headers=staff[0]).status_code == 204
    assert client.post("/api/auth/sign-out-everywhere", headers=patient[1]).status_code == 204

    for headers in staff + patient:
        assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert client.get("/api/auth/me", headers=staff_headers(client, "sam.clerk")
                      ).status_code == 200


def test_signing_out_needs_a_signed_in_caller(client: TestClient) -> None:
    assert client.post("/api/auth/sign-out").status_code == 401


def test_staff_change_their_own_password(engine: Engine, client: TestClient) -> None:
    add_staff(engine, "sam.clerk", AccountRole.CLERK)
    old = staff_headers(client, "sam.clerk")
    elsewhere = staff_headers(client, "sam.clerk")

    changed = client.post("/api/auth/staff/password", headers=old, json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert changed.status_code == 200
    fresh = bearer(changed)
    assert client.get("/api/auth/me", headers=fresh).status_code == 200
    assert client.get("/api/auth/me", headers=old).status_code == 401
    assert client.get("/api/auth/me", headers=elsewhere).status_code == 401
    assert client.post("/api/auth/staff/sign-in", json={
        "username": "sam.clerk", "password": PASSWORD}).status_code == 401
    assert staff_headers(client, "sam.clerk", NEW_PASSWORD)
    assert len(audit_events(engine, "change_password")) == 1


def test_changing_a_password_needs_the_current_one(engine: Engine, client: TestClient
                                                   ) -> None:
    add_staff(engine, "sam.clerk", AccountRole.CLERK)
    headers = staff_headers(client, "sam.clerk")

    refused = client.post("/api/auth/staff/password", headers=headers, json={
        "current_password": "not my password at all", "new_password": NEW_PASSWORD})

    assert refused.status_code == 403
    assert refused.json()["detail"][0]["loc"] == ["body", "current_password"]
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert staff_headers(client, "sam.clerk", PASSWORD)


def test_a_new_password_must_meet_the_policy(engine: Engine, client: TestClient) -> None:
    add_staff(engine, "sam.clerk", AccountRole.CLERK)
    headers = staff_headers(client, "sam.clerk")

    for weak in ("short", "sam.clerk is my password"):
        refused = client.post("/api/auth/staff/password", headers=headers, json={
            "current_password": PASSWORD, "new_password": weak})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", "new_password"]
    assert staff_headers(client, "sam.clerk", PASSWORD)


def test_patients_have_no_password_to_change(client: TestClient, one_slot: dict[str, int]
                                             ) -> None:
    headers = bearer(patient_sign_in(client))

    answer = client.post("/api/auth/staff/password", headers=headers, json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert answer.status_code == 401

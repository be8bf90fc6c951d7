"""Staff's second factor (TOTP): admins and managers must set it up before they can act;
once set up every sign-in needs a current code, used once; an admin resets a lost one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine

from booking_api.access.models import AccountRole
from booking_api.access.second_factor import code_at
from tests.booking_api.access_support import (
    PASSWORD,
    TEST_POLICY,
    MovableClock,
    add_staff,
    audit_events,
    bearer,
    clock,
    engine,
    make_app,
    migrated_url,
    shared_database,
)

__all__ = ["clock", "engine", "migrated_url", "shared_database"]  # fixtures
POLICY = replace(TEST_POLICY, second_factor_roles=frozenset({AccountRole.ADMIN,
                                                             AccountRole.MANAGER}))


@pytest.fixture
def client(migrated_url: str, clock: MovableClock) -> Iterator[TestClient]:
    with TestClient(make_app(migrated_url, clock, POLICY)) as client:
        yield client


def sign_in(client: TestClient, username: str, code: str | None = None) -> Response:
    body = {"username": username, "password": PASSWORD}
    return client.post("/api/auth/staff/sign-in",
                       json=body | ({"one_time_code": code} if code else {}))


def enrol(client: TestClient, headers: dict[str, str], clock: MovableClock) -> str:
    offered = client.post("/api/auth/staff/second-factor", headers=headers)
    assert offered.status_code == 201, offered.text
    secret = offered.json()["secret"]
    assert offered.json()["otpauth_uri"].startswith("otpauth://totp/")
    confirmed = client.post("/api/auth/staff/second-factor/confirm", headers=headers,
                            json={"one_time_code": code_at(secret, clock.now)})
    assert confirmed.status_code == 204, confirmed.text
    return secret


@pytest.mark.parametrize("role", [AccountRole.ADMIN, AccountRole.MANAGER])
def test_admins_and_managers_must_set_up_a_second_factor_before_acting(
        engine: Engine, client: TestClient, clock: MovableClock, role: AccountRole) -> None:
    add_staff(engine, "ada.boss", role)
    signed_in = sign_in(client, "ada.boss")
    assert signed_in.json()["second_factor_required"] is True
    headers = bearer(signed_in)

    refused = client.get("/api/staff/held-orders", headers=headers)
    assert refused.status_code == 403 and "two-step" in refused.json()["detail"]
    assert client.get("/api/auth/me", headers=headers).json()["second_factor_required"]

    enrol(client, headers, clock)

    assert client.get("/api/staff/held-orders", headers=headers).status_code == 200
    assert len(audit_events(engine, "second_factor_enabled")) == 1


def test_once_set_up_every_sign_in_needs_a_current_code_used_once(
        engine: Engine, client: TestClient, clock: MovableClock) -> None:
    add_staff(engine, "ada.admin", AccountRole.ADMIN)
    secret = enrol(client, bearer(sign_in(client, "ada.admin")), clock)
    clock.advance(timedelta(seconds=30))

    assert sign_in(client, "ada.admin").status_code == 401
    assert sign_in(client, "ada.admin", "000000").status_code in (401, 429)
    code = code_at(secret, clock.now)
    accepted = sign_in(client, "ada.admin", code)
    assert accepted.status_code == 200
    assert accepted.json()["second_factor_required"] is False
    assert sign_in(client, "ada.admin", code).status_code in (401, 429)  # replayed
    assert client.get("/api/admin/staff", headers=bearer(accepted)).status_code == 200


def test_a_code_from_one_step_either_side_is_accepted(
        engine: Engine, client: TestClient, clock: MovableClock) -> None:
    add_staff(engine, "ada.admin", AccountRole.ADMIN)
    secret = enrol(client, bearer(sign_in(client, "ada.admin")), clock)
    clock.advance(timedelta(minutes=5))

    late_phone = code_at(secret, clock.now - timedelta(seconds=30))
    assert sign_in(client, "ada.admin", late_phone).status_code == 200
    clock.advance(timedelta(minutes=5))
    far_off = code_at(secret, clock.now - timedelta(minutes=2))
    assert sign_in(client, "ada.admin", far_off).status_code == 401


def test_a_wrong_confirmation_code_turns_nothing_on(
        engine: Engine, client: TestClient, clock: MovableClock) -> None:
    add_staff(engine, "ada.admin", AccountRole.ADMIN)
    headers = bearer(sign_in(client, "ada.admin"))
    client.post("/api/auth/staff/second-factor", headers=headers)

    wrong = client.post("/api/auth/staff/second-factor/confirm", headers=headers,
                        json={"one_time_code": "123456"})
    bad = client.post("/api/auth/staff/second-factor/confirm", headers=headers,
                      json={"one_time_code": "12 34"})

    assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"][-1] == "one_time_code"
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "one_time_code"
    assert client.get("/api/admin/staff", headers=headers).status_code == 403
    assert sign_in(client, "ada.admin").status_code == 200  # still password only


def test_a_key_cannot_be_replaced_without_an_admin(
        engine: Engine, client: TestClient, clock: MovableClock) -> None:
    add_staff(engine, "ada.admin", AccountRole.ADMIN)
    headers = bearer(sign_in(client, "ada.admin"))
    enrol(client, headers, clock)

    assert client.post("/api/auth/staff/second-factor", headers=headers).status_code == 409


def test_clerks_may_choose_a_second_factor_and_then_need_it(
        engine: Engine, client: TestClient, clock: MovableClock) -> None:
    add_staff(engine, "carl.clerk", AccountRole.CLERK)
    headers = bearer(sign_in(client, "carl.clerk"))
    assert client.get("/api/staff/held-orders", headers=headers).status_code == 200

    secret = enrol(client, headers, clock)
    clock.advance(timedelta(seconds=30))

    assert sign_in(client, "carl.clerk").status_code == 401
    assert sign_in(client, "carl.clerk", code_at(secret, clock.now)).status_code == 200


def test_an_admin_resets_a_lost_second_factor(
        engine: Engine, client: TestClient, clock: MovableClock) -> None:
    add_staff(engine, "ada.admin", AccountRole.ADMIN)
    add_staff(engine, "mo.manager", AccountRole.MANAGER)
    admin = bearer(sign_in(client, "ada.admin"))
    enrol(client, admin, clock)
    manager = bearer(sign_in(client, "mo.manager"))
    enrol(client, manager, clock)

    reset = client.post("/api/admin/staff/mo.manager/second-factor/reset",
                        headers={**admin, "Idempotency-Key": "reset-mo"})

    assert reset.status_code == 200
    assert client.get("/api/auth/me", headers=manager).status_code == 401
    again = sign_in(client, "mo.manager")
    assert again.status_code == 200 and again.json()["second_factor_required"] is True
    assert len(audit_events(engine, "second_factor_reset")) == 1

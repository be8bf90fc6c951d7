"""Sign-in cannot be turned into a weapon against the service: password checks run in a
bounded number of slots (over them a sign-in is answered 503 at once, nothing counted or
hashed), a refused attempt hashes nothing, and the per-client limit counts the real peer:
X-Forwarded-For is believed only from CDIP_TRUSTED_PROXIES, so a spoofed header (from
loopback too, where uvicorn would otherwise believe it) changes nothing."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select

from booking_api.access.models import AccountRole, SignInAttempt
from booking_api.access.passwords import HashingGate
from booking_api.core.app_state import database_of
from booking_api.core.db import transaction
from cdip_cli.serve_commands import uvicorn_proxy_options
from tests.booking_api.access_support import (
    PASSWORD,
    TEST_POLICY,
    MovableClock,
    add_staff,
    clock,
    engine,
    make_app,
    migrated_url,
    patient_sign_in,
    shared_database,
)

__all__ = ["clock", "engine", "migrated_url", "shared_database"]  # fixtures
WRONG = {"username": "hana.clerk", "password": "not the password at all"}


class CountingHasher(PasswordHasher):
    """The test policy's cheap argon2, counting the verifications it runs."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


def attempts(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(SignInAttempt)) or 0


def test_a_sign_in_beyond_the_hashing_slots_is_refused_at_once(
        engine: Engine, migrated_url: str, clock: MovableClock) -> None:
    add_staff(engine, "hana.clerk", AccountRole.CLERK)
    gate = HashingGate(slots=1)
    policy = replace(TEST_POLICY, hashing=gate)
    with TestClient(make_app(migrated_url, clock, policy)) as client, gate.slot():
        busy = client.post("/api/auth/staff/sign-in",
                           json={"username": "hana.clerk", "password": PASSWORD})

        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert attempts(engine) == 0  # not counted against the account
    with TestClient(make_app(migrated_url, clock, policy)) as client:
        assert client.post("/api/auth/staff/sign-in", json={
            "username": "hana.clerk", "password": PASSWORD}).status_code == 200


def test_the_sign_in_flow_itself_refuses_when_the_slots_are_full(engine: Engine) -> None:
    from booking_api.access import services
    from booking_api.access.passwords import HashingBusy

    add_staff(engine, "hana.clerk", AccountRole.CLERK)
    gate = HashingGate(slots=1)
    context = services.SignInContext("test-secret", replace(TEST_POLICY, hashing=gate),
                                     "192.0.2.1", MovableClock().now)

    with gate.slot(), transaction(engine) as session, pytest.raises(HashingBusy):
        services.sign_in_staff(session, context, "hana.clerk", PASSWORD)
    assert attempts(engine) == 0


def test_the_service_sizes_its_hashing_slots_from_the_settings(migrated_url: str) -> None:
    from booking_api.core.config import Settings
    from cdip_web.app import create_app

    app = create_app(Settings(database_url=migrated_url, environment="test",
                              password_hash_concurrency=3))

    assert app.state.access_policy.hashing.slots == 3


def test_refused_sign_ins_hash_no_password(
        engine: Engine, migrated_url: str, clock: MovableClock) -> None:
    add_staff(engine, "hana.clerk", AccountRole.CLERK)
    hasher = CountingHasher()
    with TestClient(make_app(migrated_url, clock,
                             replace(TEST_POLICY, password_hasher=hasher))) as client:
        answers = [client.post("/api/auth/staff/sign-in", json=WRONG).status_code
                   for _ in range(10)]

    assert answers == [401] * 3 + [429] * 7
    assert hasher.verified == 3


def test_refused_sign_ins_take_no_write_transaction_or_lock(
        engine: Engine, migrated_url: str, clock: MovableClock) -> None:
    # On SQLite a refused attempt in a write transaction queues for the one write lock, so a
    # flood of them would hold up every booking; they are refused on a read instead.
    add_staff(engine, "hana.clerk", AccountRole.CLERK)
    with TestClient(make_app(migrated_url, clock, run_jobs_in_server=False)) as client:
        for _ in range(3):
            client.post("/api/auth/staff/sign-in", json=WRONG)
            patient_sign_in(client, born="1999-01-01")
        locking: list[str] = []

        @event.listens_for(database_of(client.app).engine, "before_cursor_execute")
        def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.startswith(("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE")) \
                    or "pg_advisory_xact_lock" in statement:
                locking.append(statement)

        staff = [client.post("/api/auth/staff/sign-in", json=WRONG).status_code
                 for _ in range(5)]
        patients = [patient_sign_in(client, born="1999-01-01").status_code
                    for _ in range(5)]

    assert staff == [429] * 5 and patients == [429] * 5
    assert locking == []


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
        migrated_url: str, clock: MovableClock) -> None:
    app = make_app(migrated_url, clock, trusted_proxies="10.0.0.0/8")
    proxy = TestClient(app, client=("10.1.2.3", 5000))
    stranger = TestClient(app, client=("192.0.2.50", 5000))

    for number in range(25):  # 25 distinct clients behind the proxy: none is limited
        forwarded = {"X-Forwarded-For": f"203.0.113.{number}, 10.9.9.9"}
        assert proxy.post("/api/auth/staff/sign-in", json={**WRONG, "username": f"u{number}"},
                          headers=forwarded).status_code == 401
    statuses = [stranger.post("/api/auth/staff/sign-in",
                              json={**WRONG, "username": f"u{number}"},
                              headers={"X-Forwarded-For": f"203.0.113.{number}"}).status_code
                for number in range(21)]

    assert statuses == [401] * 20 + [429]


@pytest.fixture
def served_app(migrated_url: str, clock: MovableClock) -> Iterator[str]:
    """The app behind a real uvicorn on loopback, with the options `cdip serve` uses."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(make_app(migrated_url, clock), host="127.0.0.1", port=port,
                            log_config=None, access_log=False, **uvicorn_proxy_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def test_a_spoofed_forwarded_for_from_loopback_does_not_escape_the_client_limit(
        served_app: str) -> None:
    with httpx.Client(base_url=served_app, timeout=10) as http:
        statuses = [http.post("/api/auth/staff/sign-in",
                              json={**WRONG, "username": f"user{number}"},
                              headers={"X-Forwarded-For": f"198.51.100.{number}"}).status_code
                    for number in range(21)]

    assert statuses == [401] * 20 + [429]

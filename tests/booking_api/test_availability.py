"""Staying available under floods: liveness needs no database, readiness asks it once a
second however many ask, the pool, threads and in-flight limits come from the settings (on
SQLite too), overload is answered 503 with Retry-After at once, bodies are bounded before
parsing, and validation errors never echo a large input."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, event, text

from booking_api.access.models import AccountRole
from booking_api.api.overload import Lane, OverloadGuard
from booking_api.core.config import Settings
from booking_api.search.services import warm_index
from cdip_web.app import create_app
from tests.booking_api.access_support import (
    MovableClock,
    add_staff,
    clock,
    make_app,
    shared_database,
    staff_headers,
)

__all__ = ["clock", "shared_database"]  # fixtures


@pytest.fixture
def client(shared_database, clock: MovableClock) -> Iterator[TestClient]:
    app = make_app(shared_database.emptied().url, clock, run_jobs_in_server=False)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def checkouts(client: TestClient) -> Iterator[list[str]]:
    """Every connection checked out of the app's pools while the test runs."""
    taken: list[str] = []
    database = client.app.state.database
    engines = {database.engine.engine, database.bookkeeping.engine}
    listeners = [(engine, lambda *_args, name=str(engine.url): taken.append(name))
                 for engine in engines]
    for engine, listener in listeners:
        event.listen(engine, "checkout", listener)
    yield taken
    for engine, listener in listeners:
        event.remove(engine, "checkout", listener)


def test_liveness_opens_no_database_connection(client: TestClient,
                                               checkouts: list[str]) -> None:
    answers = [client.get(path) for path in ("/health", "/health/live") * 5]

    assert all(answer.status_code == 200 for answer in answers)
    assert checkouts == []


def test_readiness_asks_the_database_once_for_many_callers(client: TestClient,
                                                          checkouts: list[str]) -> None:
    warm_index(client.app.state.database, client.app.state.slot_index)
    checkouts.clear()

    answers = [client.get("/health/ready") for _ in range(20)]

    assert {answer.status_code for answer in answers} == {200}
    assert answers[0].json() == {"status": "ready",
                                 "checks": {"database": "ok", "slot_index": "ok"}}
    assert len(checkouts) == 1


def test_readiness_waits_for_the_slot_index(client: TestClient) -> None:
    answer = client.get("/health/ready")

    assert answer.status_code == 503
    assert answer.json()["checks"]["slot_index"] == "loading"


def test_readiness_checks_can_be_added_by_other_parts(client: TestClient) -> None:
    from booking_api.api.health import add_readiness_check

    async def never_caught_up(_app: object) -> str:
        return "behind by 3 changes"

    warm_index(client.app.state.database, client.app.state.slot_index)
    add_readiness_check(client.app, "replication", never_caught_up)

    answer = client.get("/health/ready")

    assert answer.status_code == 503
    assert answer.json()["checks"]["replication"] == "behind by 3 changes"


def test_sqlite_engine_gets_the_configured_pool(tmp_path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cdip.sqlite3'}",
                        environment="test", max_requests_in_flight=10,
                        max_anonymous_in_flight=3, db_max_overflow=2,
                        db_pool_timeout_seconds=1.5)

    engine = create_app(settings).state.database.engine

    assert (engine.pool.size(), engine.pool._max_overflow, engine.pool.timeout()) == (13, 2, 1.5)


def test_thread_pool_is_sized_from_the_settings(shared_database, clock: MovableClock) -> None:
    app = make_app(shared_database.url, clock, max_requests_in_flight=30,
                   max_anonymous_in_flight=5, worker_threads=50)

    with TestClient(app) as client:
        tokens = client.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)

    assert tokens == 50


def test_settings_refuse_fewer_threads_or_connections_than_admitted_requests() -> None:
    with pytest.raises(ValueError, match="CDIP_WORKER_THREADS"):
        Settings(max_requests_in_flight=30, max_anonymous_in_flight=5, worker_threads=20)
    with pytest.raises(ValueError, match="CDIP_DB_POOL_SIZE"):
        Settings(max_requests_in_flight=30, max_anonymous_in_flight=5, db_pool_size=10)


# --- the overload guard -------------------------------------------------------------------------

class HeldApp:
    """An ASGI app that keeps each request until `release` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.inside = 0

    async def __call__(self, scope, receive, send) -> None:
        self.inside += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})


def _guard(app: HeldApp, wait_s: float) -> OverloadGuard:
    return OverloadGuard(
        app, signed_in=Lane("signed_in", 2, wait_s), anonymous=Lane("anonymous", 1, wait_s),
        is_signed_in=lambda scope: dict(scope["headers"]).get(b"authorization") == b"staff",
        retry_after_s=3, liveness_paths=("/health/live",))


async def _flood(guard: OverloadGuard, held: HeldApp, extra: list[tuple[str, dict]]
                 ) -> tuple[httpx.Response, list[httpx.Response]]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=guard),
                                 base_url="http://test") as http:
        first = asyncio.create_task(http.get("/api/anything"))  # fills the anonymous lane
        while held.inside < 1:
            await asyncio.sleep(0.001)
        started = asyncio.get_running_loop().time()
        others = [asyncio.create_task(http.get(path, headers=headers))
                  for path, headers in extra]
        await asyncio.sleep(0.2)
        held.release.set()
        answers = await asyncio.gather(*others)
        assert asyncio.get_running_loop().time() - started < 2
        return await first, answers


def test_overload_is_answered_503_with_retry_after_at_once() -> None:
    held = HeldApp()
    guard = _guard(held, wait_s=0.05)

    first, (refused,) = asyncio.run(_flood(guard, held, [("/api/other", {})]))

    assert first.status_code == 200
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "3"
    assert refused.json()["code"] == "overloaded"
    assert guard.anonymous.refused == 1


def test_a_full_anonymous_lane_leaves_signed_in_callers_and_liveness_a_place() -> None:
    held = HeldApp()
    guard = _guard(held, wait_s=0.05)

    _, (staff, live) = asyncio.run(_flood(guard, held, [
        ("/api/appointments", {"Authorization": "staff"}), ("/health/live", {})]))

    assert staff.status_code == 200 and live.status_code == 200
    assert guard.signed_in.refused == 0


def test_a_request_waits_briefly_for_a_place_that_frees_up() -> None:
    held = HeldApp()
    guard = _guard(held, wait_s=1.0)

    first, (waited,) = asyncio.run(_flood(guard, held, [("/api/other", {})]))

    assert (first.status_code, waited.status_code) == (200, 200)
    assert guard.anonymous.in_flight == 0


def test_the_service_puts_a_signed_in_clerk_in_the_signed_in_lane(
        shared_database, clock: MovableClock) -> None:
    from cdip_web.callers import signed_in_caller

    app = make_app(shared_database.emptied().url, clock)
    add_staff(shared_database.engine, "cara.clerk", AccountRole.CLERK)
    is_signed_in = signed_in_caller(app.state.settings)
    with TestClient(app) as client:
        headers = staff_headers(client, "cara.clerk")

    def scope(headers: dict[str, str]) -> dict:
        return {"headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}

    assert is_signed_in(scope(headers))
    assert not is_signed_in(scope({"Authorization": "Bearer forged.token"}))
    assert not is_signed_in(scope({}))


# --- request size ---------------------------------------------------------------------------

def test_a_body_over_the_limit_is_refused_413_before_parsing(client: TestClient) -> None:
    limit = client.app.state.settings.max_body_bytes
    body = json.dumps({"username": "x" * limit, "password": "p"})

    answer = client.post("/api/auth/staff/sign-in", content=body,
                         headers={"Content-Type": "application/json"})

    assert answer.status_code == 413
    assert answer.json()["code"] == "body_too_large" and f"{limit:,}" in answer.json()["detail"]


def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(client: TestClient) -> None:
    limit = client.app.state.settings.max_body_bytes
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"username": "'
        for _ in range(4 * limit // 65536):
            sent += 65536
            yield b"x" * 65536
        yield b'", "password": "p"}'

    answer = client.post("/api/auth/staff/sign-in", content=chunks(),
                         headers={"Content-Type": "application/json"})

    assert answer.status_code == 413
    assert answer.json()["code"] == "body_too_large"


def test_a_form_has_a_lower_limit_than_json(client: TestClient) -> None:
    limit = client.app.state.settings.max_form_bytes

    answer = client.post("/sign-in", data={"reference": "x" * limit, "csrf": "x"})

    assert answer.status_code == 413


def test_a_validation_error_does_not_echo_a_large_input(client: TestClient) -> None:
    huge = "x" * 500_000

    answer = client.post("/api/auth/staff/sign-in", json={"username": huge, "password": 7})

    assert answer.status_code == 422
    assert len(answer.content) < 2_000
    problems = answer.json()["detail"]
    assert {tuple(problem["loc"]) for problem in problems} >= {("body", "password")}
    assert all(len(json.dumps(problem.get("input"))) < 200 for problem in problems)


# --- the database going away ----------------------------------------------------------------

def test_no_free_connection_is_answered_503_with_retry_after(shared_database,
                                                            clock: MovableClock) -> None:
    app = make_app(shared_database.emptied().url, clock, max_requests_in_flight=1,
                   max_anonymous_in_flight=1, db_max_overflow=0,
                   db_pool_timeout_seconds=0.2)
    add_staff(shared_database.engine, "cara.clerk", AccountRole.CLERK)
    with TestClient(app) as client:
        headers = staff_headers(client, "cara.clerk")
        engine: Engine = app.state.database.engine
        held = [engine.connect() for _ in range(engine.pool.size())]
        try:
            answer = client.get("/api/appointments", headers=headers)
        finally:
            for connection in held:
                connection.close()

    assert answer.status_code == 503
    assert answer.headers["retry-after"]
    assert answer.json()["code"] == "database_unavailable"


def test_a_killed_database_connection_is_answered_503_not_500(shared_database,
                                                             clock: MovableClock) -> None:
    if not shared_database.url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    app = make_app(shared_database.emptied().url, clock, run_jobs_in_server=False)
    add_staff(shared_database.engine, "cara.clerk", AccountRole.CLERK)
    answers: list[httpx.Response] = []
    with TestClient(app) as client, shared_database.engine.connect() as locker:
        headers = staff_headers(client, "cara.clerk")
        locker.execute(text("LOCK TABLE appointment IN ACCESS EXCLUSIVE MODE"))
        request = threading.Thread(target=lambda: answers.append(
            client.get("/api/appointments?patient_id=1", headers=headers)))
        request.start()
        with shared_database.engine.connect() as observer:
            observer = observer.execution_options(isolation_level="AUTOCOMMIT")
            victim = _backend_waiting_for_a_lock(observer)
            observer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
        locker.rollback()
        request.join(timeout=30)

    assert answers[0].status_code == 503, answers[0].text
    assert answers[0].headers["retry-after"]
    assert answers[0].json()["code"] == "database_unavailable"


def _backend_waiting_for_a_lock(observer: Connection, timeout_s: float = 10) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = observer.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND "
            "wait_event_type = 'Lock' AND pid <> pg_backend_pid() LIMIT 1")).scalar()
        if pid is not None:
            return int(pid)
        time.sleep(0.05)
    raise AssertionError("no request came to wait for the lock")


def test_liveness_pacing_delays_a_burst_but_never_past_its_cap() -> None:
    from booking_api.api.overload import Pacer

    async def burst() -> list[float]:
        pacer = Pacer(per_s=100, max_delay_s=0.05)
        loop = asyncio.get_running_loop()

        async def one() -> float:
            started = loop.time()
            await pacer.wait_turn()
            return loop.time() - started

        waits = await asyncio.gather(*(one() for _ in range(50)))
        await asyncio.sleep(0.1)  # the burst is over: the next answer is immediate
        return [*waits, await one()]

    waits = asyncio.run(burst())

    assert waits[0] < 0.01 and max(waits[:-1]) >= 0.04
    assert max(waits) < 0.2
    assert waits[-1] < 0.01

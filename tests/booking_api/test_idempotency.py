"""Idempotency-Key on POST: the first response per (actor, key) is stored and replayed byte
for byte, the same key on another request is refused naming the header, concurrent
duplicates run once, and the stored outcome never disagrees with what was committed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine, event, func, select, update

from booking_api.access.deps import CurrentStaff, IdempotentRoute
from booking_api.access.models import AccountRole, StaffUser
from booking_api.api.deps import SessionDep
from booking_api.audit.services import record_audit
from booking_api.core.db import transaction
from booking_api.idempotency import leases, services
from booking_api.idempotency.models import IdempotencyRecord, KeyState
from booking_api.idempotency.route import keep_with_commit
from tests.booking_api.access_support import (
    MovableClock,
    add_staff,
    admin,
    clock,
    engine,
    make_app,
    migrated_url,
    shared_database,
    staff_headers,
)

__all__ = ["admin", "clock", "engine", "migrated_url", "shared_database"]  # fixtures
NEW_CLERK = {"username": "nina.new", "display_name": "Nina New", "role": "clerk",
             "password": "a long enough phrase"}


class NoteIn(BaseModel):
    text: str
    outcome: str = "ok"


class NoteRefused(Exception):
    """A refusal the app turns into an answer through a registered exception handler."""


class NotesRoute:
    """A small idempotent route that writes an audit row per call, for watching how often
    it really runs; `gate` holds a call inside the route until the test lets it go."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.router = APIRouter(prefix="/test", route_class=IdempotentRoute)
        self.router.post("/notes", status_code=201, response_model=None)(self.add_note)

    def add_note(self, note: NoteIn, staff: CurrentStaff, session: SessionDep
                 ) -> dict[str, object] | JSONResponse:
        self.calls.append(note.text)
        self.entered.set()
        assert self.gate.wait(timeout=10)
        if note.outcome == "refuse_before_commit":
            raise HTTPException(409, "that time has just been taken")
        if note.outcome == "domain_error":
            raise NoteRefused("notes are closed today")
        if note.outcome == "crash_before_commit":
            raise RuntimeError("the route failed before changing anything")
        record_audit(session, staff.actor, "note", "note", len(self.calls),
                     after={"text": note.text})
        if note.outcome.startswith("keep_with_commit"):
            return self._kept_with_commit(session, note)
        session.commit()
        if note.outcome == "crash_after_commit":
            raise RuntimeError("the route failed after its change committed")
        return {"note": len(self.calls), "text": note.text}


    def _kept_with_commit(self, session: SessionDep, note: NoteIn) -> JSONResponse:
        """The booking routes' way: the answer is made first and kept with the commit."""
        answer = JSONResponse({"note": len(self.calls), "text": note.text}, status_code=201)
        keep_with_commit(answer)
        if note.outcome == "keep_with_commit_then_roll_back":
            session.rollback()
            return JSONResponse({"detail": "changed its mind"}, status_code=409)
        session.commit()
        return answer


@pytest.fixture
def notes() -> NotesRoute:
    return NotesRoute()


@pytest.fixture
def client(migrated_url: str, clock: MovableClock, notes: NotesRoute) -> Iterator[TestClient]:
    app = make_app(migrated_url, clock)
    app.include_router(notes.router)
    app.add_exception_handler(NoteRefused, lambda _request, error: JSONResponse(
        {"detail": str(error)}, status_code=409))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def _staff_count(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(StaffUser)) or 0


def test_replay_returns_the_identical_response_and_does_nothing_again(
        engine: Engine, client: TestClient, admin: dict[str, str]) -> None:
    first = client.post("/api/admin/staff", json=NEW_CLERK, headers=_key(admin, "k-1"))
    again = client.post("/api/admin/staff", json=NEW_CLERK, headers=_key(admin, "k-1"))

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _staff_count(engine) == 2  # the admin and Nina, once


def test_same_key_with_a_different_body_is_refused_naming_the_header(
        engine: Engine, client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/admin/staff", json=NEW_CLERK, headers=_key(admin, "k-1"))

    other = client.post("/api/admin/staff", json=NEW_CLERK | {"username": "otto.other"},
                        headers=_key(admin, "k-1"))

    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert _staff_count(engine) == 2


def test_same_key_on_another_path_is_refused(client: TestClient, admin: dict[str, str]
                                             ) -> None:
    client.post("/test/notes", json={"text": "x"}, headers=_key(admin, "k-1"))

    other = client.post("/api/admin/staff", json=NEW_CLERK, headers=_key(admin, "k-1"))

    assert other.status_code == 422


def test_key_order_and_spacing_of_the_json_body_do_not_matter(
        client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    headers = _key(admin, "k-1") | {"content-type": "application/json"}
    client.post("/test/notes", content=b'{"text": "a", "outcome": "ok"}', headers=headers)

    again = client.post("/test/notes", content=b'{"outcome":"ok","text":"a"}', headers=headers)

    assert again.headers["idempotent-replayed"] == "true" and notes.calls == ["a"]


@pytest.mark.parametrize("key", [None, "", "has spaces", "k" * 256, "ключ".encode()])
def test_post_without_a_usable_key_is_refused_naming_the_header(
        client: TestClient, admin: dict[str, str], notes: NotesRoute,
        key: str | bytes | None) -> None:
    headers = admin if key is None else {**admin, "Idempotency-Key": key}

    response = client.post("/test/notes", json={"text": "x"}, headers=headers)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert notes.calls == []


def test_keys_belong_to_one_actor(engine: Engine, client: TestClient, admin: dict[str, str],
                                  notes: NotesRoute) -> None:
    add_staff(engine, "bea.admin", AccountRole.ADMIN)
    bea = staff_headers(client, "bea.admin")

    ada_note = client.post("/test/notes", json={"text": "ada"}, headers=_key(admin, "shared"))
    bea_note = client.post("/test/notes", json={"text": "bea"}, headers=_key(bea, "shared"))

    assert ada_note.status_code == bea_note.status_code == 201
    assert notes.calls == ["ada", "bea"]


def test_duplicate_arriving_while_the_first_runs_gets_409_and_the_route_runs_once(
        client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    notes.gate.clear()
    first: dict[str, object] = {}
    worker = threading.Thread(target=lambda: first.update(response=client.post(
        "/test/notes", json={"text": "once"}, headers=_key(admin, "k-1"))))
    worker.start()
    assert notes.entered.wait(timeout=10)

    duplicate = client.post("/test/notes", json={"text": "once"}, headers=_key(admin, "k-1"))
    notes.gate.set()
    worker.join(timeout=10)
    retry = client.post("/test/notes", json={"text": "once"}, headers=_key(admin, "k-1"))

    assert duplicate.status_code == 409
    assert "still being processed" in duplicate.json()["detail"]
    assert first["response"].status_code == 201
    assert retry.content == first["response"].content
    assert notes.calls == ["once"]


def test_concurrent_same_key_posts_from_threads_create_one_account(
        engine: Engine, client: TestClient, admin: dict[str, str]) -> None:
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def post() -> None:
        barrier.wait()
        statuses.append(client.post("/api/admin/staff", json=NEW_CLERK,
                                    headers=_key(admin, "race")).status_code)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses)[0] == 201 and set(statuses) <= {201, 409}
    assert _staff_count(engine) == 2


def test_refusal_before_any_change_is_kept_and_replayed(
        client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    body = {"text": "x", "outcome": "refuse_before_commit"}
    first = client.post("/test/notes", json=body, headers=_key(admin, "k-1"))
    again = client.post("/test/notes", json=body, headers=_key(admin, "k-1"))

    assert first.status_code == again.status_code == 409
    assert again.json() == {"detail": "that time has just been taken"}
    assert len(notes.calls) == 1


def test_error_turned_into_an_answer_by_an_app_handler_is_kept_and_replayed(
        client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    body = {"text": "x", "outcome": "domain_error"}
    first = client.post("/test/notes", json=body, headers=_key(admin, "k-1"))
    again = client.post("/test/notes", json=body, headers=_key(admin, "k-1"))

    assert first.status_code == 409 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true" and len(notes.calls) == 1


def test_validation_error_does_not_use_up_the_key(
        client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    bad = client.post("/test/notes", json={"txt": "typo"}, headers=_key(admin, "k-1"))
    good = client.post("/test/notes", json={"text": "fixed"}, headers=_key(admin, "k-1"))

    assert bad.status_code == 422 and good.status_code == 201
    assert notes.calls == ["fixed"]


def test_expired_token_answer_does_not_use_up_the_key(
        engine: Engine, client: TestClient, admin: dict[str, str], clock: MovableClock,
        notes: NotesRoute) -> None:
    clock.advance(timedelta(hours=8))
    refused = client.post("/test/notes", json={"text": "x"}, headers=_key(admin, "k-1"))
    fresh = staff_headers(client, "ada.admin")

    retried = client.post("/test/notes", json={"text": "x"}, headers=_key(fresh, "k-1"))

    assert refused.status_code == 401 and retried.status_code == 201
    assert notes.calls == ["x"]


def test_deactivated_account_is_refused_without_claiming_a_key(
        engine: Engine, client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    with transaction(engine) as session:
        session.execute(update(StaffUser).where(StaffUser.username == "ada.admin")
                        .values(active=False))

    refused = client.post("/test/notes", json={"text": "x"}, headers=_key(admin, "k-1"))

    assert refused.status_code == 401
    assert "no longer active" in refused.json()["detail"]
    assert notes.calls == []
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_signed_in_post_looks_its_caller_up_once(
        client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    lookups: list[str] = []
    lookup_engine = client.app.state.database.lookup  # type: ignore[attr-defined]
    listen = lambda *args: lookups.append(args[2])  # noqa: E731
    event.listen(lookup_engine, "before_cursor_execute", listen)
    try:
        created = client.post("/test/notes", json={"text": "x"}, headers=_key(admin, "k-1"))
    finally:
        event.remove(lookup_engine, "before_cursor_execute", listen)

    assert created.status_code == 201
    assert sum("FROM staff_user" in statement for statement in lookups) == 1


def test_crash_before_commit_releases_the_key_for_a_retry(
        client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    crashed = client.post("/test/notes", json={"text": "x", "outcome": "crash_before_commit"},
                          headers=_key(admin, "k-1"))
    notes.calls.clear()
    again = client.post("/test/notes", json={"text": "x", "outcome": "crash_before_commit"},
                        headers=_key(admin, "k-1"))

    assert crashed.status_code == again.status_code == 500
    assert notes.calls == ["x"]  # it ran again: nothing had changed the first time


def test_crash_after_commit_keeps_the_answer_and_never_runs_twice(
        engine: Engine, client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    body = {"text": "x", "outcome": "crash_after_commit"}
    crashed = client.post("/test/notes", json=body, headers=_key(admin, "k-1"))
    again = client.post("/test/notes", json=body, headers=_key(admin, "k-1"))

    assert crashed.status_code == again.status_code == 500
    assert again.headers["idempotent-replayed"] == "true"
    assert notes.calls == ["x"]


def test_route_commit_marks_the_key_in_the_same_transaction(
        engine: Engine, client: TestClient, admin: dict[str, str]) -> None:
    client.post("/test/notes", json={"text": "x"}, headers=_key(admin, "k-1"))

    with transaction(engine) as session:
        record = session.scalar(select(IdempotencyRecord))
    assert record.state is KeyState.COMPLETED and record.committed_at is not None
    assert record.actor.startswith("staff:") and record.response_status == 201


def test_response_kept_with_the_commit_is_replayed_without_a_later_write(
        client: TestClient, admin: dict[str, str], notes: NotesRoute,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_later_write(*_args: object) -> bool:
        raise AssertionError("the response was already stored with the change")

    monkeypatch.setattr(services, "complete_key", no_later_write)
    body = {"text": "x", "outcome": "keep_with_commit"}
    first = client.post("/test/notes", json=body, headers=_key(admin, "k-1"))
    again = client.post("/test/notes", json=body, headers=_key(admin, "k-1"))

    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again.headers["idempotent-replayed"] == "true"
    assert notes.calls == ["x"]


def test_response_kept_for_a_commit_that_was_rolled_back_is_not_the_one_replayed(
        client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    body = {"text": "x", "outcome": "keep_with_commit_then_roll_back"}
    first = client.post("/test/notes", json=body, headers=_key(admin, "k-1"))
    again = client.post("/test/notes", json=body, headers=_key(admin, "k-1"))

    assert first.status_code == again.status_code == 409
    assert again.json() == {"detail": "changed its mind"}
    assert notes.calls == ["x"]


def test_key_can_be_reused_after_it_expires(client: TestClient, admin: dict[str, str],
                                            clock: MovableClock, notes: NotesRoute) -> None:
    client.post("/test/notes", json={"text": "x"}, headers=_key(admin, "k-1"))
    clock.advance(services.KEY_LIFETIME)
    fresh = staff_headers(client, "ada.admin")

    again = client.post("/test/notes", json={"text": "x"}, headers=_key(fresh, "k-1"))

    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert notes.calls == ["x", "x"]


def test_abandoned_claim_that_changed_nothing_is_taken_over_after_its_lease(
        engine: Engine, clock: MovableClock) -> None:
    claim = services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)
    assert isinstance(claim, services.Claim)

    with pytest.raises(services.KeyStillInProgress):
        services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)
    clock.advance(services.PROCESSING_LEASE)

    assert isinstance(services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now),
                      services.Claim)


def test_claim_whose_change_committed_but_response_was_lost_is_never_rerun(
        engine: Engine, clock: MovableClock) -> None:
    claim = services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)
    with transaction(engine) as session:
        session.execute(update(IdempotencyRecord).values(committed_at=clock.now))
    clock.advance(services.PROCESSING_LEASE)

    with pytest.raises(services.ResponseLost, match="current state"):
        services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)
    assert isinstance(claim, services.Claim)


def test_claim_names_its_owner_and_a_short_lease(engine: Engine, clock: MovableClock) -> None:
    claim = services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)

    with transaction(engine) as session:
        record = session.get(IdempotencyRecord, claim.record_id)
        assert record.owner == leases.PROCESS_OWNER
        assert record.lease_until == clock.now + leases.CLAIM_LEASE
    assert timedelta(seconds=30) >= leases.CLAIM_LEASE


def test_claim_whose_owner_died_is_taken_over_once_its_short_lease_lapses(
        engine: Engine, clock: MovableClock) -> None:
    services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)  # nobody renews it
    clock.advance(leases.CLAIM_LEASE - timedelta(seconds=1))
    with pytest.raises(services.KeyStillInProgress):
        services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)

    clock.advance(timedelta(seconds=1))

    assert isinstance(services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now),
                      services.Claim)


def test_claim_whose_owner_died_after_committing_says_the_response_was_lost(
        engine: Engine, clock: MovableClock) -> None:
    services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)
    with transaction(engine) as session:
        session.execute(update(IdempotencyRecord).values(committed_at=clock.now))
    clock.advance(leases.CLAIM_LEASE)

    with pytest.raises(services.ResponseLost):
        services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)


def test_claim_of_a_live_owner_is_renewed_past_its_first_lease(
        engine: Engine, clock: MovableClock) -> None:
    elapsed = [0.0]
    renewer = leases.ClaimRenewer(monotonic=lambda: elapsed[0])
    claim = services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)
    renewer.keep_alive(engine, claim.record_id, claim.claimed_at)

    for _ in range(4):  # a minute of work, renewed every 15 s
        elapsed[0] += 15
        clock.advance(timedelta(seconds=15))
        assert renewer.renew_now() == 1
        with pytest.raises(services.KeyStillInProgress):
            services.claim_key(engine, "staff:1", "k-1", "f" * 64, clock.now)

    renewer.let_go(claim.record_id)
    elapsed[0] += 15
    assert renewer.renew_now() == 0


def test_an_idempotent_route_keeps_its_claim_alive_only_while_it_runs(
        client: TestClient, admin: dict[str, str], notes: NotesRoute) -> None:
    notes.gate.clear()
    worker = threading.Thread(target=lambda: client.post(
        "/test/notes", json={"text": "slow"}, headers=_key(admin, "k-1")))
    worker.start()
    assert notes.entered.wait(timeout=10)
    held_while_running = len(leases.RENEWER._held)

    notes.gate.set()
    worker.join(timeout=10)

    assert held_while_running == 1
    assert leases.RENEWER._held == {}


def test_purge_removes_only_expired_keys(engine: Engine, clock: MovableClock) -> None:
    services.claim_key(engine, "staff:1", "old", "f" * 64, clock.now)
    clock.advance(timedelta(hours=12))
    services.claim_key(engine, "staff:1", "new", "f" * 64, clock.now)
    clock.advance(timedelta(hours=12))

    assert services.purge_expired_keys(engine, clock.now) == 1


def test_claims_sweep_expired_keys_now_and_then(engine: Engine, clock: MovableClock,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    services.claim_key(engine, "staff:1", "old", "f" * 64, clock.now)
    clock.advance(services.KEY_LIFETIME)
    monkeypatch.setattr(services, "PURGE_EVERY", 1)

    services.claim_key(engine, "staff:1", "new", "f" * 64, clock.now)

    with transaction(engine) as session:
        assert list(session.scalars(select(IdempotencyRecord.key))) == ["new"]


def test_openapi_documents_the_required_header(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/admin/staff"]["post"]

    assert {"name": "Idempotency-Key", "in": "header", "required": True}.items() <= \
        operation["parameters"][0].items()

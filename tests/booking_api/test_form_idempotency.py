"""Page forms use the JSON API's idempotency: the redirect a form leads to commits with the
change it made, a resent form gets that redirect without running again, and a form that
changed nothing leaves its key free for another try."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from booking_api.audit.models import AuditEvent
from booking_api.audit.services import Actor, AuditNotWired, record_audit
from booking_api.core.channel import Channel
from booking_api.core.db import Database, make_engine, transaction
from booking_api.database import open_database
from booking_api.idempotency.forms import redirect_answer, submit_once
from booking_api.idempotency.models import IdempotencyRecord, KeyState

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ACTOR = Actor("patient:1", Channel.PORTAL, "patient")
SUBJECT = "patient:1"


class Boom(Exception):
    """Something failing after the form's change committed (a crash in the page)."""


@pytest.fixture
def db(migrated_url: str) -> Iterator[Database]:
    database = open_database(migrated_url)
    yield database
    database.dispose()


def _note(db: Database, text: str) -> None:
    with db.transaction() as session:
        record_audit(session, ACTOR, text, "note", 1)


def _notes(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _send(db: Database, action: Callable[[], str]) -> Any:
    return submit_once(db, SUBJECT, "k1", "fingerprint", NOW,
                       answer=redirect_answer("/done"), action=action)


def test_a_resent_form_gets_the_kept_redirect_and_changes_nothing_again(db: Database) -> None:
    first = _send(db, lambda: _note(db, "changed") or "ran")
    again = _send(db, lambda: _note(db, "changed") or "ran")

    assert first == "ran"
    assert dict(again.headers) == {"location": "/done"} and again.status == 303
    assert _notes(db) == 1


def test_the_redirect_commits_with_the_change_even_if_the_page_fails_after_it(
        db: Database) -> None:
    def change_then_fail() -> str:
        _note(db, "changed")
        raise Boom

    with pytest.raises(Boom):
        _send(db, change_then_fail)
    replayed = _send(db, lambda: _note(db, "changed") or "ran")

    assert dict(replayed.headers) == {"location": "/done"}
    assert _notes(db) == 1


def test_a_form_that_changed_nothing_frees_its_key(db: Database) -> None:
    assert _send(db, lambda: "errors shown") == "errors shown"
    assert _send(db, lambda: _note(db, "changed") or "ran") == "ran"

    with db.reading() as session:
        record = session.scalar(select(IdempotencyRecord))
    assert record is not None and record.state is KeyState.COMPLETED
    assert record.response_headers == [["location", "/done"]]


def test_a_rolled_back_attempt_does_not_lose_the_answer_of_a_later_commit(
        db: Database) -> None:
    def fail_once_then_change() -> str:
        try:
            with db.transaction() as session:
                record_audit(session, ACTOR, "first try", "note", 1)
                raise Boom
        except Boom:
            pass
        _note(db, "second try")
        return "ran"

    assert _send(db, fail_once_then_change) == "ran"
    assert dict(_send(db, lambda: "again").headers) == {"location": "/done"}


def test_recording_audit_on_an_unwired_session_is_refused_not_lost(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        with transaction(engine) as session, pytest.raises(AuditNotWired):
            record_audit(session, ACTOR, "note", "note", 1)
    finally:
        engine.dispose()

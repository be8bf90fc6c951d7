"""How an idempotency claim commits with the change it guards, for the JSON API and the
pages' forms alike.

While a claim is active (a context variable, set around the route or form action), the
first commit of a session that wrote anything also marks the claim `committed_at` and, when
the response is already known (`keep_with_commit`), stores it: the change, the mark and the
response are one transaction, so a retry can never run the change again, and the answer to
replay is never lost. The listeners are attached to the service's engines and session
factories by `booking_api.database`, not to every engine in the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, event, update
from sqlalchemy.engine import ExecutionContext
from sqlalchemy.orm import Session, sessionmaker

from booking_api.core.columns import utc_now
from booking_api.idempotency.models import IdempotencyRecord, KeyState
from booking_api.idempotency.services import Claim, StoredResponse

_active_claim: ContextVar[Claim | None] = ContextVar("idempotency_claim", default=None)
_MARKED = "cdip_idempotency_marked"


@contextmanager
def claim_active(claim: Claim) -> Iterator[Claim]:
    """Make `claim` the one the next commits in this context mark."""
    token = _active_claim.set(claim)
    try:
        yield claim
    finally:
        _active_claim.reset(token)


def keep_with_commit(stored: StoredResponse) -> None:
    """For work that knows its answer before it commits: have the answer stored with the
    change, in the same transaction. Outside an active claim, does nothing."""
    claim = _active_claim.get()
    if claim is not None and not claim.committed:
        claim.response = stored


def watch_writes(engine: Engine) -> None:
    """Note any insert, update or delete on `engine` (ORM flush or Core statement) while a
    claim is active: its session's next commit then marks the claim."""
    event.listen(engine, "after_cursor_execute", _note_write)


def attach_claim_marks(factory: sessionmaker[Session]) -> None:
    """Have sessions of `factory` mark (and store the response of) the active claim as they
    commit. Attach after the audit hooks: both write in the same commit."""
    event.listen(factory, "before_commit", _mark_claim_committed)
    event.listen(factory, "after_commit", _claim_committed)
    event.listen(factory, "after_rollback", _claim_not_committed)


_MARK_COMMITTED = (update(IdempotencyRecord)
                   .where(IdempotencyRecord.id == bindparam("record_id"))
                   .values(committed_at=bindparam("at")))
_COMMIT_WITH_RESPONSE = _MARK_COMMITTED.values(
    state=bindparam("new_state"), response_status=bindparam("status"),
    response_headers=bindparam("headers"), response_body=bindparam("body"))


def _note_write(_connection: Connection, _cursor: Any, _statement: str, _parameters: Any,
                context: ExecutionContext | None, _executemany: bool) -> None:
    claim = _active_claim.get()
    if claim is not None and context is not None and (
            context.isinsert or context.isupdate or context.isdelete):
        claim.wrote = True


def _mark_claim_committed(session: Session) -> None:
    """Inside the work's own transaction: the change and the mark commit together."""
    claim = _active_claim.get()
    if claim is None or claim.committed:
        return
    if not (claim.wrote or session.new or session.dirty or session.deleted):
        return
    mark = {"record_id": claim.record_id, "at": utc_now()}
    kept = claim.response or claim.answer
    if kept is None:
        session.connection().execute(_MARK_COMMITTED, mark)
    else:
        session.connection().execute(_COMMIT_WITH_RESPONSE, mark | {
            "new_state": KeyState.COMPLETED, "status": kept.status,
            "headers": [list(pair) for pair in kept.headers], "body": kept.body})
    session.info[_MARKED] = claim


def _claim_committed(session: Session) -> None:
    claim = session.info.pop(_MARKED, None)
    if claim is not None:
        claim.committed = True
        claim.stored = (claim.response or claim.answer) is not None


def _claim_not_committed(session: Session) -> None:
    session.info.pop(_MARKED, None)
    claim = _active_claim.get()
    if claim is not None and not claim.committed:
        claim.response = None  # the work will answer otherwise (its change did not happen)

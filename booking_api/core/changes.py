"""Changes a transaction made that other contexts act on as it commits (a booking that must
be told to the patient, say), kept on the session like audit rows: `note_change` appends a
frozen value; a listener attached to the session factory takes them in `before_commit` and
writes what they imply in the same transaction. A rollback, or the end of a transaction they
did not commit with, drops them.

Low on purpose: the contexts that note changes (appointments) know nothing of the contexts
that act on them (the outbox, above them). A session whose factory has no such listener
refuses to note a change (`ChangesNotWired`) instead of silently losing it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, orm
from sqlalchemy.orm import Session, sessionmaker

_PENDING = "cdip_pending_changes"
_WIRED = "cdip_changes_wired"


class ChangesNotWired(RuntimeError):
    """A change noted on a session that would never act on it (a bug)."""


def note_change(session: Session, change: Any) -> None:
    """Keep `change` (a frozen value) until this session's transaction commits."""
    if not session.info.get(_WIRED):
        raise ChangesNotWired("this session's factory acts on no changes: make sessions from "
                              "an engine of booking_api.database, or the change would be lost")
    session.connection()  # in the transaction, so its end (commit, rollback, close) is seen
    session.info.setdefault(_PENDING, []).append(change)


def take_changes(session: Session, kind: type | None = None) -> list[Any]:
    """The changes noted so far in this transaction (of `kind` only, when given), in order,
    and forget them; changes of other kinds stay for the listeners that take those."""
    pending = session.info.pop(_PENDING, None) or []
    if kind is None:
        return pending
    taken = [change for change in pending if isinstance(change, kind)]
    left = [change for change in pending if not isinstance(change, kind)]
    if left:
        session.info[_PENDING] = left
    return taken


def wire_changes(factory: sessionmaker[Session]) -> None:
    """Let sessions of `factory` note changes: the caller attaches the listener that takes
    them (`take_changes`) before commit. Noted changes are dropped when the transaction ends
    without committing them."""
    event.listen(factory, "after_transaction_end", _forget_pending)
    factory.kw["info"] = {**factory.kw.get("info", {}), _WIRED: True}


def _forget_pending(session: Session, transaction: orm.SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction itself, not a savepoint in it
        session.info.pop(_PENDING, None)

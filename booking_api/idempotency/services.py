"""Claiming, completing and releasing idempotency keys, each in a short transaction of its
own (never the route's), so a claim is visible to a concurrent duplicate at once. They
commit without waiting for the disk (`make_bookkeeping_engine`): a claim lost in a database
crash had changed nothing yet (the route's own commit flushes it to disk first), and a lost
stored response leaves the row saying its work committed, so a retry gets ResponseLost,
never a second execution.

A claim inserts the row; the database's unique (actor, key) constraint decides the race.
A loser reads the winner's row: a different request under the same key is refused, a
finished one is replayed, an unfinished one is refused as still in progress. Rows past
their 24 h expiry, and unfinished rows whose work never committed and whose lease ran
out (its owner died: `leases`), are replaced by a new claim."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from booking_api.core.db import bookkeeping_transaction, transaction
from booking_api.idempotency.leases import CLAIM_LEASE, PROCESS_OWNER
from booking_api.idempotency.models import IdempotencyRecord, KeyState

KEY_HEADER = "Idempotency-Key"
KEY_LIFETIME = timedelta(hours=24)
PROCESSING_LEASE = timedelta(minutes=5)
"""The lease of a row claimed before claims had owners and leases of their own (migration
0010); every new claim's lease is `leases.CLAIM_LEASE`, renewed while its owner works."""
PURGE_EVERY = 200
"""Every this many claims (by row id), the claimer also deletes expired rows: the table stays
about one day of POSTs big without a separate sweeper."""
_CLAIM_TRIES = 3
logger = logging.getLogger(__name__)


class IdempotencyError(Exception):
    """A request the key rules refuse; `status` is the HTTP status to answer with."""

    status = 409


class KeyReusedForAnotherRequest(IdempotencyError):
    status = 422


class KeyStillInProgress(IdempotencyError):
    status = 409


class ResponseLost(IdempotencyError):
    status = 409


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass
class Claim:
    """This request owns the key; `committed` turns True once its work has committed."""

    record_id: int
    claimed_at: datetime | None = None
    """The `now` the claim was made at (its lease counts from there)."""
    committed: bool = False
    wrote: bool = False
    """Whether the route has written anything yet (then its next commit marks the claim)."""
    response: StoredResponse | None = None
    """The route's response, when it had it before committing (`keep_with_commit`)."""
    answer: StoredResponse | None = None
    """An answer fixed before the work runs (a form's redirect), kept by whichever of the
    work's transactions commits; unlike `response`, a rollback does not clear it."""
    stored: bool = False
    """Whether `response` was stored in the route's own transaction (nothing left to do)."""


def request_fingerprint(secret: str, method: str, path: str, query: str, body: bytes) -> str:
    """Keyed hash of what the request asks for. A JSON body is canonicalised first (key
    order and spacing do not matter). Keyed, so a stored hash of a body holding a password
    cannot be attacked offline."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    message = b"\0".join((method.upper().encode(), path.encode(), query.encode(), canonical))
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def claim_key(engine: Engine, actor: str, key: str, fingerprint: str, now: datetime,
              bookkeeping: Engine | None = None) -> Claim | StoredResponse:
    """Own the key (Claim) or get the stored first response; raises IdempotencyError. The
    claim is written through `bookkeeping` (`make_bookkeeping_engine`) when given."""
    for _ in range(_CLAIM_TRIES):
        try:
            with bookkeeping_transaction(bookkeeping or engine) as connection:
                claim = Claim(connection.execute(_CLAIM, {
                    "actor": actor, "key": key, "fingerprint": fingerprint,
                    "state": KeyState.IN_PROGRESS, "created_at": now,
                    "expires_at": now + KEY_LIFETIME, "owner": PROCESS_OWNER,
                    "lease_until": now + CLAIM_LEASE}).scalar_one(), claimed_at=now)
        except IntegrityError:
            pass
        else:
            if claim.record_id % PURGE_EVERY == 0:
                purge_expired_keys(engine, now)
            return claim
        stored = _existing_outcome(engine, actor, key, fingerprint, now)
        if stored is not None:
            return stored
    raise KeyStillInProgress(_in_progress_message(key))


def complete_key(engine: Engine, claim: Claim, stored: StoredResponse) -> bool:
    """Store the response; False if the claim was gone (taken over after its lease ran out
    while this request was still running: the response cannot be replayed)."""
    with bookkeeping_transaction(engine) as connection:
        result = connection.execute(_COMPLETE, {
            "record_id": claim.record_id, "new_state": KeyState.COMPLETED,
            "status": stored.status, "headers": [list(pair) for pair in stored.headers],
            "body": stored.body})
    if result.rowcount == 1:
        return True
    logger.warning("idempotency claim vanished before its response was stored",
                   extra={"event": "idempotency_claim_lost"})
    return False


_CLAIM = insert(IdempotencyRecord).returning(IdempotencyRecord.id)
_COMPLETE = (update(IdempotencyRecord)
             .where(IdempotencyRecord.id == bindparam("record_id"))
             .values(state=bindparam("new_state"), response_status=bindparam("status"),
                     response_headers=bindparam("headers"), response_body=bindparam("body")))
"""Built once with bind parameters: every idempotent POST runs both."""


def release_key(engine: Engine, claim: Claim) -> None:
    """Forget a claim whose request changed nothing, so a retry may run it afresh."""
    with bookkeeping_transaction(engine) as connection:
        connection.execute(delete(IdempotencyRecord)
                           .where(IdempotencyRecord.id == claim.record_id))


def purge_expired_keys(engine: Engine, now: datetime) -> int:
    """Delete rows past their expiry; returns how many."""
    with transaction(engine) as session:
        result = session.execute(delete(IdempotencyRecord)
                                 .where(IdempotencyRecord.expires_at <= now))
        return result.rowcount or 0


def _existing_outcome(engine: Engine, actor: str, key: str, fingerprint: str,
                      now: datetime) -> StoredResponse | None:
    """The stored response, or None after removing a dead row (the caller claims again)."""
    with transaction(engine) as session:
        record = session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.actor == actor, IdempotencyRecord.key == key).with_for_update())
        if record is None:
            return None
        if record.expires_at <= now or _abandoned(record, now):
            session.delete(record)
            return None
        if not hmac.compare_digest(record.fingerprint, fingerprint):
            raise KeyReusedForAnotherRequest(
                f"{KEY_HEADER} '{key}' was already used for a different request (another "
                f"path or body). Send a new {KEY_HEADER} for a new request.")
        if record.state is KeyState.COMPLETED:
            assert record.response_status is not None and record.response_body is not None
            return StoredResponse(record.response_status,
                                  tuple((name, value) for name, value in
                                        record.response_headers or ()),
                                  record.response_body)
        if record.committed_at is not None and _lease_end(record) <= now:
            raise ResponseLost(
                f"The request with {KEY_HEADER} '{key}' was carried out but its response "
                "was not recorded. Fetch the current state instead of retrying.")
        raise KeyStillInProgress(_in_progress_message(key))


def _abandoned(record: IdempotencyRecord, now: datetime) -> bool:
    return (record.state is KeyState.IN_PROGRESS and record.committed_at is None
            and _lease_end(record) <= now)


def _lease_end(record: IdempotencyRecord) -> datetime:
    """When the claim dies unless renewed (rows claimed before leases: the old 5 minutes)."""
    if record.lease_until is not None:
        return record.lease_until
    return record.created_at + PROCESSING_LEASE


def _in_progress_message(key: str) -> str:
    return (f"A request with {KEY_HEADER} '{key}' is still being processed. Wait for it to "
            "finish, then retry to get its response.")

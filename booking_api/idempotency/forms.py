"""Double submission of the pages' forms, by the same mechanism as the JSON API: a form
carries a fresh key; its action runs at most once per (signed-in caller, key); the answer to
replay (a redirect to where the action leads) commits in the action's own transaction
(`commit_hooks`), so a resent form can never change anything twice nor lose its answer.

An action that commits nothing (the page shows errors, or the time was just taken) frees
the key, so the same form may be sent again. A duplicate arriving while the first still
runs waits for it (a double click), up to `WAIT_FOR_FIRST_S`."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from booking_api.core.db import Database
from booking_api.idempotency import commit_hooks, leases, services
from booking_api.idempotency.services import KeyStillInProgress, StoredResponse

WAIT_FOR_FIRST_S = 10.0
_POLL_S = 0.2
T = TypeVar("T")


def redirect_answer(location: str) -> StoredResponse:
    """The answer a form submission keeps: 303 See Other to `location`."""
    return StoredResponse(303, (("location", location),), b"")


def submit_once(db: Database, subject: str, key: str, fingerprint: str, now: datetime, *,
                answer: StoredResponse, action: Callable[[], T]) -> T | StoredResponse:
    """Run `action` unless this key ran before: then the kept answer comes back instead.
    `answer` is kept if (and as) the action commits. Raises IdempotencyError for a key
    reused with other answers or still in progress after the wait."""
    claim = _claim(db, subject, key, fingerprint, now)
    if isinstance(claim, StoredResponse):
        return claim
    claim.answer = answer
    try:
        with leases.kept_alive(db.bookkeeping, claim), commit_hooks.claim_active(claim):
            outcome = action()
    except BaseException:
        if not claim.committed:
            services.release_key(db.bookkeeping, claim)
        raise
    if not claim.committed:
        services.release_key(db.bookkeeping, claim)
    return outcome


def _claim(db: Database, subject: str, key: str, fingerprint: str, now: datetime
           ) -> services.Claim | StoredResponse:
    deadline = time.monotonic() + WAIT_FOR_FIRST_S
    while True:
        try:
            return services.claim_key(db.engine, subject, key, fingerprint, now, db.bookkeeping)
        except KeyStillInProgress:
            if time.monotonic() > deadline:
                raise
            time.sleep(_POLL_S)

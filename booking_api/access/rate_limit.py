"""Rate limits on sign-in, counted from the sign_in_attempt table so they hold across
worker processes and restarts.

A subject (username or booking reference) and a client (network address) are each allowed a
number of failed sign-ins within a sliding window; beyond that, sign-in is refused with the
seconds until the oldest counted failure leaves the window. Both are stored as keyed
digests (HMAC with the service's secret), never as the values themselves.

Count first, check credentials after: `reserve_attempt` checks the limits and records the
attempt as a failure in one step, before any credential is looked at; a success is marked
afterwards. The step is serialised per subject and per client (SQLite: BEGIN IMMEDIATE;
PostgreSQL: transaction-scoped advisory locks, subject before client so two sign-ins never
wait on each other in a cycle), so a burst of parallel guesses gets exactly the allowed
number through, and an attempt cut short by a crash still counts."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlmodel import Session

from booking_api.access.models import SignInAttempt, SignInKind
from booking_api.access.policy import AccessPolicy


class TooManyAttempts(Exception):
    """Sign-in refused for now; `retry_after_s` says when to try again."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class AttemptKeys:
    """Who is trying, as digests: the subject (account or reference) and the client."""

    kind: SignInKind
    subject_digest: str
    client_digest: str


def attempt_keys(secret: str, kind: SignInKind, subject: str, client: str) -> AttemptKeys:
    return AttemptKeys(kind, _digest(secret, f"{kind}:subject", subject),
                       _digest(secret, f"{kind}:client", client))


def check_not_limited(session: Session, policy: AccessPolicy, keys: AttemptKeys,
                      now: datetime) -> None:
    """Raise TooManyAttempts when the subject or the client has used up its failures."""
    limits = ((SignInAttempt.subject_digest, keys.subject_digest, policy.failures_per_subject),
              (SignInAttempt.client_digest, keys.client_digest, policy.failures_per_client))
    for column, digest, limit in limits:
        wait = _seconds_until_below(session, policy, keys.kind, column, digest, limit, now)
        if wait is not None:
            minutes = max(1, math.ceil(wait / 60))
            raise TooManyAttempts(
                f"Too many failed sign-in attempts. Wait {minutes} minute"
                f"{'s' if minutes != 1 else ''} and try again.", wait)


def reserve_attempt(session: Session, policy: AccessPolicy, keys: AttemptKeys,
                    now: datetime) -> int:
    """Check the limits and record this attempt as failed, in the caller's transaction
    (commit it before checking credentials). Returns the attempt's id for
    `mark_succeeded`; raises TooManyAttempts (nothing recorded)."""
    _serialise(session, keys)
    check_not_limited(session, policy, keys, now)
    attempt = SignInAttempt(at=now, kind=keys.kind, subject_digest=keys.subject_digest,
                            client_digest=keys.client_digest, succeeded=False)
    session.add(attempt)
    session.execute(delete(SignInAttempt).where(
        SignInAttempt.at < now - policy.attempt_retention))
    session.flush()
    assert attempt.id is not None
    return attempt.id


def mark_succeeded(session: Session, attempt_id: int) -> None:
    session.execute(update(SignInAttempt).where(SignInAttempt.id == attempt_id)
                    .values(succeeded=True))


def _serialise(session: Session, keys: AttemptKeys) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the write transaction (BEGIN IMMEDIATE) already excludes the rest
    for digest in (keys.subject_digest, keys.client_digest):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": int(digest[:15], 16)})


def _seconds_until_below(session: Session, policy: AccessPolicy, kind: SignInKind,
                         column: object, digest: str, limit: int, now: datetime) -> int | None:
    window_start = now - policy.failure_window
    failed = (SignInAttempt.kind == kind, column == digest,
              SignInAttempt.succeeded.is_(False), SignInAttempt.at > window_start)
    count = session.scalar(select(func.count()).select_from(SignInAttempt).where(*failed)) or 0
    if count < limit:
        return None
    # Once this many of the oldest failures leave the window, the count is below the limit.
    pivot = session.scalar(select(SignInAttempt.at).where(*failed)
                           .order_by(SignInAttempt.at, SignInAttempt.id)
                           .offset(count - limit).limit(1))
    assert pivot is not None
    return max(1, math.ceil((pivot + policy.failure_window - now).total_seconds()))


def _digest(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()

"""Anti-automation on sign-in (OWASP ASVS 2.2.1), counted from the sign_in_attempt table so
it holds across worker processes and restarts. Nothing here ever locks a holder out:

- one client guessing at one subject (username or booking reference): after a few free
  failures each further try must wait 2, 4, 8 ... seconds (up to 15 minutes) after the last;
- one subject from all clients together: after more failures each try waits 1, 2, 4 ...
  seconds, never more than a minute, so a stranger can slow an account down but the right
  credentials still get in; crossing this line is audited and the holder told (services);
- one client over all subjects: a fixed number of failures per window.

Failures count since the subject's last success or an admin's unlock (`unlock_subject`).
Subjects and clients are stored as keyed digests (HMAC with the service's secret), never as
the values themselves.

Count first, check credentials after: `reserve_attempt` checks the limits and records the
attempt as a failure in one step, before any credential is looked at (and before any
password is hashed); a success is marked afterwards. The step is serialised per subject and
per client (SQLite: BEGIN IMMEDIATE; PostgreSQL: transaction-scoped advisory locks, subject
before client so two sign-ins never wait on each other in a cycle), so a burst of parallel
guesses gets exactly the allowed number through, and an attempt cut short by a crash still
counts."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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


UNLOCK_CLIENT = "admin-unlock"
"""client_digest of the row an admin's unlock writes (a success that counts as none)."""


@dataclass(frozen=True)
class Reservation:
    """An attempt counted as failed until marked otherwise; `subject_failures` is how many
    failures of the subject it makes (so the one that starts the delays is known)."""

    attempt_id: int
    subject_failures: int


def check_not_limited(session: Session, policy: AccessPolicy, keys: AttemptKeys,
                      now: datetime) -> int:
    """Raise TooManyAttempts while the client, or this subject, must wait; else the
    subject's failures so far."""
    since = _last_success(session, keys, now - policy.subject_window)
    pair = _failures(session, keys, since, client=True)
    subject = _failures(session, keys, since, client=False)
    client_wait = _client_wait(session, policy, keys, now)
    waits = [
        _progressive_wait(pair, policy.free_failures_per_pair, 2, policy.pair_delay_cap, now),
        _progressive_wait(subject, policy.free_failures_per_subject, 1,
                          policy.subject_delay_cap, now),
        client_wait,
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise TooManyAttempts(_wait_message(wait), wait)
    return subject.count


def reserve_attempt(session: Session, policy: AccessPolicy, keys: AttemptKeys,
                    now: datetime) -> Reservation:
    """Check the limits and record this attempt as failed, in the caller's transaction
    (commit it before checking credentials). Raises TooManyAttempts (nothing recorded)."""
    _serialise(session, keys)
    failures_before = check_not_limited(session, policy, keys, now)
    attempt = SignInAttempt(at=now, kind=keys.kind, subject_digest=keys.subject_digest,
                            client_digest=keys.client_digest, succeeded=False)
    session.add(attempt)
    session.execute(delete(SignInAttempt).where(
        SignInAttempt.at < now - policy.attempt_retention))
    session.flush()
    assert attempt.id is not None
    return Reservation(attempt.id, failures_before + 1)


def unlock_subject(session: Session, keys: AttemptKeys, now: datetime) -> None:
    """Clear a subject's delays (an admin's unlock): failures before now stop counting."""
    session.add(SignInAttempt(at=now, kind=keys.kind, subject_digest=keys.subject_digest,
                              client_digest=UNLOCK_CLIENT, succeeded=True))


def mark_succeeded(session: Session, attempt_id: int) -> None:
    session.execute(update(SignInAttempt).where(SignInAttempt.id == attempt_id)
                    .values(succeeded=True))


def _serialise(session: Session, keys: AttemptKeys) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the write transaction (BEGIN IMMEDIATE) already excludes the rest
    for digest in (keys.subject_digest, keys.client_digest):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": int(digest[:15], 16)})


@dataclass(frozen=True)
class _Failures:
    count: int
    last_at: datetime | None


def _last_success(session: Session, keys: AttemptKeys, floor: datetime) -> datetime:
    """Failures count from the subject's last success or unlock, or from `floor`."""
    last = session.scalar(select(func.max(SignInAttempt.at)).where(
        SignInAttempt.kind == keys.kind, SignInAttempt.subject_digest == keys.subject_digest,
        SignInAttempt.succeeded.is_(True), SignInAttempt.at > floor))
    return max(_aware(last), floor) if last is not None else floor


def _failures(session: Session, keys: AttemptKeys, since: datetime, *, client: bool
              ) -> _Failures:
    conditions = [SignInAttempt.kind == keys.kind,
                  SignInAttempt.subject_digest == keys.subject_digest,
                  SignInAttempt.succeeded.is_(False), SignInAttempt.at > since]
    if client:
        conditions.append(SignInAttempt.client_digest == keys.client_digest)
    count, last = session.execute(select(func.count(), func.max(SignInAttempt.at))
                                  .where(*conditions)).one()
    return _Failures(count or 0, _aware(last) if last is not None else None)


def _progressive_wait(failures: _Failures, free: int, base_s: int, cap: timedelta,
                      now: datetime) -> int | None:
    """Seconds still to wait after `failures` (None: none), the delay doubling with each
    failure beyond the free ones."""
    if failures.count < free or failures.last_at is None:
        return None
    delay = min(cap.total_seconds(), base_s * 2.0 ** min(failures.count - free, 30))
    remaining = (failures.last_at + timedelta(seconds=delay) - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else None


def _client_wait(session: Session, policy: AccessPolicy, keys: AttemptKeys,
                 now: datetime) -> int | None:
    """Seconds until the client's failures in the window fall below its limit."""
    window_start = now - policy.failure_window
    failed = (SignInAttempt.kind == keys.kind, SignInAttempt.client_digest == keys.client_digest,
              SignInAttempt.succeeded.is_(False), SignInAttempt.at > window_start)
    limit = policy.failures_per_client
    count = session.scalar(select(func.count()).select_from(SignInAttempt).where(*failed)) or 0
    if count < limit:
        return None
    # Once this many of the oldest failures leave the window, the count is below the limit.
    pivot = session.scalar(select(SignInAttempt.at).where(*failed)
                           .order_by(SignInAttempt.at, SignInAttempt.id)
                           .offset(count - limit).limit(1))
    assert pivot is not None
    return max(1, math.ceil((_aware(pivot) + policy.failure_window - now).total_seconds()))


def _wait_message(seconds: int) -> str:
    if seconds < 60:
        return (f"Too many failed sign-in attempts. Wait {seconds} second"
                f"{'s' if seconds != 1 else ''} and try again.")
    minutes = math.ceil(seconds / 60)
    return (f"Too many failed sign-in attempts. Wait {minutes} minute"
            f"{'s' if minutes != 1 else ''} and try again.")


def _aware(instant: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes from aggregates; make them aware."""
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _digest(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()

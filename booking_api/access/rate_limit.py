"""Rate limits on sign-in, counted from the sign_in_attempt table so they hold across
worker processes and restarts.

A subject (username or booking reference) and a client (network address) are each allowed a
number of failed sign-ins within a sliding window; beyond that, sign-in is refused with the
seconds until the oldest counted failure leaves the window. Both are stored as keyed
digests (HMAC with the service's secret), never as the values themselves. Two attempts
racing past the check at the same moment can each be counted late: the limit may be
exceeded by the number of concurrent requests, never more."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
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


def record_attempt(session: Session, policy: AccessPolicy, keys: AttemptKeys, succeeded: bool,
                   now: datetime) -> None:
    """Add the attempt (in the caller's transaction) and drop attempts past retention."""
    session.add(SignInAttempt(at=now, kind=keys.kind, subject_digest=keys.subject_digest,
                              client_digest=keys.client_digest, succeeded=succeeded))
    session.execute(delete(SignInAttempt).where(
        SignInAttempt.at < now - policy.attempt_retention))


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

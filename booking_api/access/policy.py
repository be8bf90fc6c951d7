"""The numbers access works to (session lengths, rate limits), kept on the application so
a test or a deployment can change them in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from argon2 import PasswordHasher


@dataclass(frozen=True)
class AccessPolicy:
    staff_session: timedelta = timedelta(hours=8)
    patient_session: timedelta = timedelta(minutes=30)
    failures_per_subject: int = 5
    """failed sign-ins per username or booking reference within `failure_window`"""
    failures_per_client: int = 20
    """failed sign-ins per client address within `failure_window`"""
    failure_window: timedelta = timedelta(minutes=15)
    attempt_retention: timedelta = timedelta(days=1)
    password_hasher: PasswordHasher = field(default_factory=PasswordHasher)
    """argon2id; its defaults are RFC 9106's low-memory profile (t=3, 64 MiB, p=4)"""


DEFAULT_POLICY = AccessPolicy()

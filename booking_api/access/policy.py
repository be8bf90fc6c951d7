"""The numbers access works to (session lengths, sign-in delays, hashing slots, which roles
need a second factor), kept on the application so a test or a deployment can change them in
one place. `policy_from_settings` makes the service's from CDIP_* settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from argon2 import PasswordHasher

from booking_api.access.models import AccountRole
from booking_api.access.passwords import HashingGate
from booking_api.core.config import Settings


@dataclass(frozen=True)
class AccessPolicy:
    staff_session: timedelta = timedelta(hours=8)
    patient_session: timedelta = timedelta(minutes=30)
    free_failures_per_pair: int = 3
    """failed sign-ins one client may make for one subject (username or booking reference)
    before each further try must wait, 2, 4, 8 ... seconds after the last"""
    pair_delay_cap: timedelta = timedelta(minutes=15)
    free_failures_per_subject: int = 10
    """failed sign-ins for one subject from all clients together before each further try
    waits (1, 2, 4 ... seconds, at most `subject_delay_cap`): a stranger can slow an account
    down by at most that much, never lock its holder out; the holder is told once"""
    subject_delay_cap: timedelta = timedelta(seconds=60)
    """at most 60 guesses an hour at one account, whatever the number of clients (OWASP
    ASVS 2.2.1 asks for no more than 100)"""
    failures_per_client: int = 20
    """failed sign-ins per client address within `failure_window`, over all subjects"""
    failure_window: timedelta = timedelta(minutes=15)
    subject_window: timedelta = timedelta(hours=1)
    """how far back failures of a subject count (since its last success or unlock)"""
    attempt_retention: timedelta = timedelta(days=1)
    password_hasher: PasswordHasher = field(default_factory=PasswordHasher)
    """argon2id; its defaults are RFC 9106's low-memory profile (t=3, 64 MiB, p=4)"""
    hashing: HashingGate = field(default_factory=HashingGate)
    """password checks at once in this process (each holds 64 MiB); beyond, 503 at once"""
    second_factor_roles: frozenset[AccountRole] = frozenset(
        {AccountRole.ADMIN, AccountRole.MANAGER})
    """roles that may act only after signing in with a one-time code (TOTP)"""


def policy_from_settings(settings: Settings) -> AccessPolicy:
    return AccessPolicy(
        hashing=HashingGate(settings.password_hash_concurrency),
        second_factor_roles=frozenset(
            AccountRole(name) for name in settings.second_factor_roles.split(",") if name))


DEFAULT_POLICY = AccessPolicy()

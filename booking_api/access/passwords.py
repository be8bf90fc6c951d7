"""Staff passwords: the policy a new password must meet, and argon2id hashing.

Only argon2 hashes are stored. The hasher (its cost parameters) comes from the access policy:
argon2-cffi's defaults (RFC 9106's low-memory profile) in service; tests pass cheaper ones.
Checking an unknown username still runs one argon2 verification (against a dummy hash), so
a wrong username costs the same time as a wrong password and the answer does not tell the
two apart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


HASHING_BUSY = "The service is busy signing other people in. Try again in a moment."


class HashingBusy(Exception):
    """Every password-checking slot of this process is taken: answer 503 at once."""

    retry_after_s = 1


class HashingGate:
    """Bounds the argon2 work one process does at once. Each check holds 64 MiB and a core
    for tens of milliseconds; unbounded, a burst of sign-ins exhausted memory and starved
    every other request. Over the bound a caller is refused at once (never queued)."""

    def __init__(self, slots: int = 2) -> None:
        self.slots = slots
        self._in_use = 0
        self._lock = threading.Lock()

    @property
    def full(self) -> bool:
        """Whether every slot is taken now (a hint for refusing before any other work;
        `slot()` decides)."""
        return self._in_use >= self.slots

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block; raises HashingBusy when none is free."""
        with self._lock:
            if self._in_use >= self.slots:
                raise HashingBusy(HASHING_BUSY)
            self._in_use += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_use -= 1


class WeakPassword(ValueError):
    """A password the policy refuses; the message says what to change."""


def check_password_policy(password: str, username: str) -> None:
    """Raise WeakPassword unless the password is long enough and not built on the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"password must have at least {MIN_PASSWORD_LENGTH} characters "
                           f"(a short phrase of several words is easy to remember)")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"password must have at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        raise WeakPassword("password must use at least 4 different characters")
    if username and username.lower() in password.lower():
        raise WeakPassword("password must not contain the username")


def hash_password(hasher: PasswordHasher, password: str) -> str:
    """An argon2id hash in PHC string form (salt and parameters included)."""
    return hasher.hash(password)


def verify_password(hasher: PasswordHasher, stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with `stored_hash` None (no such account) the same work
    is done against a dummy hash and the answer is False."""
    try:
        matched = hasher.verify(stored_hash or _dummy_hash(hasher), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return matched and stored_hash is not None


def needs_rehash(hasher: PasswordHasher, stored_hash: str) -> bool:
    """True when the hash was made with other parameters than the hasher's."""
    return hasher.check_needs_rehash(stored_hash)


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("no account has this password: it only spends the time")

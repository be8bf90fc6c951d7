"""Signed, expiring session tokens for staff and patients.

A token is an itsdangerous URL-safe signature (HMAC-SHA512 over the settings' secret key)
of a small JSON payload carrying its own issue and expiry times, so expiry is checked
against the service's clock (which tests can set) rather than the wall clock. Staff and
patient tokens are signed with different salts: one kind never verifies as the other.
Every token names its sign-in (`sid`, a row of `access_session`), checked on each request:
signing out revokes that row, so the token dies at once in every process. A staff token also
carries the account's token version; raising it in the database (password, role or active
change) revokes every token issued before."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from booking_api.access.models import AccountRole, SignInKind

_SALTS = {SignInKind.STAFF: "cdip.access.staff-session",
          SignInKind.PATIENT: "cdip.access.patient-session"}
_WHO = {SignInKind.STAFF: "a member of staff", SignInKind.PATIENT: "a patient"}


class InvalidToken(Exception):
    """A token that is forged, damaged, of the other kind, or expired; the message says
    which, fit to show the caller."""


@dataclass(frozen=True)
class StaffClaims:
    session_id: str
    staff_id: int
    role: AccountRole
    token_version: int
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class PatientClaims:
    session_id: str
    patient_id: int
    request_id: int
    issued_at: datetime
    expires_at: datetime


def new_session_id() -> str:
    """A fresh sign-in's id (256 random bits)."""
    return secrets.token_urlsafe(32)


def issue_staff_token(secret: str, session_id: str, staff_id: int, role: AccountRole,
                      token_version: int, now: datetime, lifetime: timedelta
                      ) -> tuple[str, datetime]:
    expires = now + lifetime
    payload = {"sid": session_id, "sub": staff_id, "role": str(role), "ver": token_version,
               "iat": _epoch(now), "exp": _epoch(expires)}
    return _serializer(secret, SignInKind.STAFF).dumps(payload), expires


def issue_patient_token(secret: str, session_id: str, patient_id: int, request_id: int,
                        now: datetime, lifetime: timedelta) -> tuple[str, datetime]:
    expires = now + lifetime
    payload = {"sid": session_id, "sub": patient_id, "req": request_id, "iat": _epoch(now),
               "exp": _epoch(expires)}
    return _serializer(secret, SignInKind.PATIENT).dumps(payload), expires


def read_staff_token(secret: str, token: str, now: datetime) -> StaffClaims:
    payload = _read(secret, SignInKind.STAFF, token, now)
    try:
        return StaffClaims(session_id=str(payload["sid"]), staff_id=int(payload["sub"]),
                           role=AccountRole(payload["role"]),
                           token_version=int(payload["ver"]),
                           issued_at=_instant(payload["iat"]),
                           expires_at=_instant(payload["exp"]))
    except (KeyError, ValueError, TypeError):
        raise InvalidToken("the session token is not valid: sign in again") from None


def read_patient_token(secret: str, token: str, now: datetime) -> PatientClaims:
    payload = _read(secret, SignInKind.PATIENT, token, now)
    try:
        return PatientClaims(session_id=str(payload["sid"]),
                             patient_id=int(payload["sub"]), request_id=int(payload["req"]),
                             issued_at=_instant(payload["iat"]),
                             expires_at=_instant(payload["exp"]))
    except (KeyError, ValueError, TypeError):
        raise InvalidToken("the session token is not valid: sign in again") from None


def token_kind(secret: str, token: str) -> SignInKind | None:
    """Which kind of token this is (signature checked, expiry not), or None."""
    for kind in SignInKind:
        if _verified_payload(secret, kind, token) is not _FORGED:
            return kind
    return None


def _read(secret: str, kind: SignInKind, token: str, now: datetime) -> dict[str, Any]:
    payload = _verified_payload(secret, kind, token)
    if payload is _FORGED:
        raise InvalidToken(f"this is not a valid {kind} session token: "
                           f"sign in as {_WHO[kind]}")
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int | float):
        raise InvalidToken("the session token is not valid: sign in again")
    if _epoch(now) >= payload["exp"]:
        raise InvalidToken("your session has expired: sign in again")
    return dict(payload)


_FORGED = object()
"""What `_verified_payload` gives for a token whose signature does not verify."""


@lru_cache(maxsize=4096)
def _verified_payload(secret: str, kind: SignInKind, token: str) -> Any:
    """The signed payload of a token, or _FORGED. A pure function of its arguments (expiry
    and the account's token version are checked by the callers on every use), so a token's
    HMAC is verified once, not on every request."""
    try:
        return _serializer(secret, kind).loads(token)
    except BadSignature:
        return _FORGED


@lru_cache(maxsize=16)
def _serializer(secret: str, kind: SignInKind) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALTS[kind],
                             signer_kwargs={"digest_method": hashlib.sha512})


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def _instant(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)

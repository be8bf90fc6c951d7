"""Staff's second factor: time-based one-time codes (TOTP, RFC 6238: 6 digits, 30 s steps,
SHA-1, what every authenticator app reads), via pyotp. A code is accepted one step either
side of the service's clock (phones drift) and only once: the step it matched is stored and
an equal or earlier one refused, so a code seen over someone's shoulder cannot be replayed."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "CDIP imaging network"
DRIFT_STEPS = (0, -1, 1)


def new_secret() -> str:
    """A fresh base32 key (160 bits, RFC 4226's recommendation)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads (usually as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def code_at(secret: str, instant: datetime) -> str:
    """The code an app shows at `instant` (tests and the demo use it)."""
    return pyotp.TOTP(secret).at(instant)


def matching_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step `code` belongs to (within one step of `now`, later than `last_step`),
    or None when it matches none."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for offset in DRIFT_STEPS:
        step = current + offset
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None

"""What the fake Twilio remembers and decides: the messages it accepted, the numbers that
opted out (by Twilio's own keyword rules), the faults it was told to answer with, and its
latency. Thread-safe: the test thread and the server thread both use it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
"""Twilio's default opt-out keywords, written out here independently of the project's code so
that the fake checks it rather than agreeing with it."""
OPT_IN_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class FaultKind(StrEnum):
    SERVER_ERROR = "500"
    UNAVAILABLE = "503"
    RATE_LIMITED = "429"
    TIMEOUT = "timeout"
    """Hang without accepting the message: the client times out, nothing was sent."""
    TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"
    """Accept the message, then hang: the client times out although it was sent."""


@dataclass
class Fault:
    kind: FaultKind
    remaining: int | None = None
    """Requests left to fail; None: until `until`."""
    until: float | None = None
    """time.monotonic() deadline; None: for `remaining` requests."""
    hang_seconds: float = 15.0

    def applies(self, now: float) -> bool:
        if self.until is not None and now >= self.until:
            return False
        return self.remaining is None or self.remaining > 0


@dataclass
class FakeMessage:
    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status: str
    status_callback: str | None
    date_created: str
    callbacks: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_")
        return data


class FakeTwilioState:
    def __init__(self, account_sid: str, auth_token: str, *,
                 status_callback_url: str | None = None, inbound_url: str | None = None,
                 latency_ms: tuple[int, int] = (0, 0), seed: int | None = None) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.status_callback_url = status_callback_url
        self.inbound_url = inbound_url
        self.latency_ms = latency_ms
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._messages: list[FakeMessage] = []
        self._faults: list[Fault] = []
        self.opted_out: set[str] = set()
        self.undeliverable: set[str] = set()
        self.requests_seen = 0
        self.closing = threading.Event()
        """Set when the server shuts down: hanging requests end at once."""

    # --- control ---------------------------------------------------------------------------

    def add_fault(self, kind: FaultKind, count: int | None = None, seconds: float | None = None,
                  hang_seconds: float = 15.0) -> None:
        if count is None and seconds is None:
            count = 1
        until = time.monotonic() + seconds if seconds is not None else None
        with self._lock:
            self._faults.append(Fault(kind, count, until, hang_seconds))

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._faults.clear()
            self.opted_out.clear()
            self.undeliverable.clear()
            self.requests_seen = 0

    def messages(self) -> list[FakeMessage]:
        with self._lock:
            return list(self._messages)

    def message(self, sid: str) -> FakeMessage | None:
        with self._lock:
            return next((m for m in self._messages if m.sid == sid), None)

    def latency_s(self) -> float:
        low, high = self.latency_ms
        with self._lock:
            return self._random.uniform(low, high) / 1000 if high > 0 else 0.0

    # --- decisions -------------------------------------------------------------------------

    def next_fault(self) -> Fault | None:
        """The fault this request must answer with (counting it), or None."""
        now = time.monotonic()
        with self._lock:
            self.requests_seen += 1
            self._faults = [fault for fault in self._faults if fault.applies(now)]
            if not self._faults:
                return None
            fault = self._faults[0]
            if fault.remaining is not None:
                fault.remaining -= 1
            return fault

    def accept(self, *, to: str, from_: str | None, messaging_service_sid: str | None,
               body: str, status_callback: str | None) -> FakeMessage:
        message = FakeMessage(
            sid="SM" + secrets.token_hex(16), account_sid=self.account_sid, to=to, from_=from_,
            messaging_service_sid=messaging_service_sid, body=body,
            status="accepted" if messaging_service_sid else "queued",
            status_callback=status_callback or self.status_callback_url,
            date_created=datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"))
        with self._lock:
            self._messages.append(message)
        return message

    def set_status(self, message: FakeMessage, status: str) -> None:
        with self._lock:
            message.status = status

    def record_callback(self, message: FakeMessage, outcome: dict[str, Any]) -> None:
        with self._lock:
            message.callbacks.append(outcome)

    def apply_keyword(self, number: str, body: str) -> str | None:
        """Twilio's handling of a single-word keyword from `number`: 'opt_out', 'opt_in' or
        None (not a keyword: only whole-message keywords count)."""
        word = body.strip().upper()
        with self._lock:
            if word in OPT_OUT_KEYWORDS:
                self.opted_out.add(number)
                return "opt_out"
            if word in OPT_IN_KEYWORDS:
                self.opted_out.discard(number)
                return "opt_in"
        return None

    def sign(self, url: str, params: dict[str, str]) -> str:
        """X-Twilio-Signature as Twilio documents it: HMAC-SHA1, keyed by the auth token, of
        the URL followed by each POST parameter's name and value in name order, base64."""
        payload = url + "".join(name + params[name] for name in sorted(params))
        digest = hmac.new(self.auth_token.encode(), payload.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()

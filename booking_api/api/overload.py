"""The overload guard: an ASGI middleware that admits a bounded number of requests at once and
answers the rest 503 with `Retry-After` within a short wait, instead of letting them queue for
worker threads and database connections until everyone, staff included, waits a minute.

Requests go through one of two lanes with limits of their own: callers with a valid signed
session (staff and signed-in patients; `is_signed_in` decides, from the headers alone and
without the database) and everyone else. A flood of anonymous requests (sign-in attempts,
readiness checks, public pages) fills only its own lane; a clerk's booking still finds a
place. Liveness is answered here, before anything else runs, and never with a 503 (an
orchestrator would read that as a dead process), only paced when it floods in."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger(__name__)
LOG_EVERY_S = 10.0
"""Refusals are logged as a count at most this often (a line per refusal would let a flood
fill the logs too)."""


MAX_WAITING = 4096
"""Requests one lane keeps waiting at most (a future and a timer each); past it, refused at
once."""


@dataclass
class Lane:
    """Admits up to `limit` requests at once. A request that finds the lane full waits up to
    `wait_s` for a place and is refused if none frees up. Refused only then, not at once: a
    flooding client that re-sends as soon as it is answered is slowed to one request per
    `wait_s` per connection, and while it waits it costs no CPU (an immediate 503 would
    have it back at once, and a few hundred such clients keep the event loop busy enough
    to delay everyone)."""

    name: str
    limit: int
    wait_s: float
    max_waiting: int = MAX_WAITING
    in_flight: int = 0
    refused: int = 0
    _waiting: deque[asyncio.Future[None]] = field(default_factory=deque)

    async def enter(self) -> bool:
        """True once a place is this request's (call `leave` when done); False if refused."""
        if self.in_flight < self.limit and not self._waiting:
            self.in_flight += 1
            return True
        if self.wait_s <= 0 or len(self._waiting) >= self.max_waiting:
            self.refused += 1
            return False
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(place)
        try:
            await asyncio.wait_for(place, self.wait_s)
        except TimeoutError:
            self._forget(place)
            self.refused += 1
            return False
        except BaseException:  # the client went away while waiting
            self._forget(place)
            if place.done() and not place.cancelled():
                self.leave()  # a place was handed over just as the wait ended: pass it on
            raise
        return True

    def leave(self) -> None:
        """Hand this request's place to the longest waiter, or free it."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.in_flight -= 1

    def _forget(self, place: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):
            self._waiting.remove(place)


class Pacer:
    """Answers at most `per_s` requests a second at once; the rest after a delay growing with
    the excess, never longer than `max_delay_s`. For liveness: always answered, but a flood
    of it is slowed as the lanes slow the rest."""

    def __init__(self, per_s: float, max_delay_s: float) -> None:
        self.interval = 1 / per_s
        self.max_delay_s = max_delay_s
        self._next = 0.0

    async def wait_turn(self) -> None:
        now = time.monotonic()
        turn = min(max(now, self._next), now + self.max_delay_s)  # a backlog never grows
        self._next = turn + self.interval
        delay = turn - now
        if delay > 0:
            await asyncio.sleep(delay)


LIVE_BODY = b'{"status":"ok"}'


class OverloadGuard:
    """ASGI middleware putting every HTTP request through a lane, except liveness, which it
    answers itself (paced): the cheapest answer the service can give."""

    def __init__(self, app: ASGIApp, *, signed_in: Lane, anonymous: Lane,
                 is_signed_in: Callable[[Scope], bool], retry_after_s: int,
                 liveness_paths: Collection[str] = (), liveness: Pacer | None = None
                 ) -> None:
        self.app = app
        self.signed_in = signed_in
        self.anonymous = anonymous
        self._is_signed_in = is_signed_in
        self._liveness = frozenset(liveness_paths)
        self._pacer = liveness or Pacer(per_s=200, max_delay_s=anonymous.wait_s)
        self._refusal = _refusal_body(retry_after_s)
        self._retry_after = str(retry_after_s).encode()
        self._logged_at = time.monotonic() - LOG_EVERY_S
        self._logged_refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self._liveness and scope["method"] in ("GET", "HEAD"):
            await self._pacer.wait_turn()
            await _answer(send, 200, LIVE_BODY, [])
            return
        lane = self.signed_in if self._is_signed_in(scope) else self.anonymous
        if not await lane.enter():
            await self._refuse(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            lane.leave()

    async def _refuse(self, send: Send) -> None:
        await _answer(send, 503, self._refusal, [(b"retry-after", self._retry_after)])
        self._log_refusals()

    def _log_refusals(self) -> None:
        now = time.monotonic()
        if now - self._logged_at < LOG_EVERY_S:
            return
        refused = self.signed_in.refused + self.anonymous.refused
        logger.warning("overloaded: requests refused with 503", extra={
            "event": "overload_refused", "refused": refused - self._logged_refused,
            "signed_in_refused_total": self.signed_in.refused,
            "anonymous_refused_total": self.anonymous.refused,
            "seconds": round(now - self._logged_at, 1)})
        self._logged_at, self._logged_refused = now, refused


async def _answer(send: Send, status: int, body: bytes,
                  headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), *headers]})
    await send({"type": "http.response.body", "body": body})


def _refusal_body(retry_after_s: int) -> bytes:
    return json.dumps({
        "detail": f"The service is busy. Try again in {retry_after_s} "
                  f"second{'s' if retry_after_s != 1 else ''}.",
        "code": "overloaded"}).encode()

"""Bounds on what a request may send, enforced before anything parses it: a body larger than
the limit (declared in Content-Length, or counted as it streams in) is answered 413 naming the
limit, and the route sees no more of it. Forms (urlencoded or multipart) have a lower limit
than JSON: the portal's forms are a few short fields, so this bounds every form field too."""

from __future__ import annotations

import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


class BodyTooLarge(Exception):
    """Raised from `receive` once the body passes its limit; the middleware answers 413."""


class BodyLimit:
    """ASGI middleware: 413 for a request body over `max_bytes` (`max_form_bytes` for a
    form), without reading past the limit."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_form_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_form_bytes = max_form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, declared = self._limit_and_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, limit)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # the app turned our exception into an answer of its own: ours wins
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with contextlib.suppress(BodyTooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if exceeded and not started:
            await _too_large(send, limit)

    def _limit_and_length(self, scope: Scope) -> tuple[int, int | None]:
        limit, declared = self.max_bytes, None
        for name, value in scope.get("headers", ()):
            if name == b"content-type" and value.split(b";")[0].strip().lower() in FORM_TYPES:
                limit = min(limit, self.max_form_bytes)
            elif name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        return limit, declared


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({
        "detail": f"The request body is larger than the {limit:,} bytes this service "
                  "accepts for it. Send less.",
        "code": "body_too_large", "field": "body"}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})

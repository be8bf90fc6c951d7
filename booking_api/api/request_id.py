"""Give every HTTP request an id (the caller's X-Request-ID when it is sane, else a new one),
echo it in the response, put it on every log line, and log one line per request naming the
route template, never the raw path (paths can hold booking references)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking_api.core.logging import request_id_var

HEADER = "x-request-id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
logger = logging.getLogger("booking_api.http")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            logger.info("request handled", extra={
                "event": "http_request", "request_id": request_id, "method": scope["method"],
                "route": getattr(route, "path", None), "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            })
            request_id_var.reset(token)


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == HEADER.encode():
            candidate = value.decode("latin-1")
            return candidate if _SANE_ID.match(candidate) else None
    return None

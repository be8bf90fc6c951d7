"""HTTP Strict Transport Security on every response of a production service, API and pages
alike: once a browser has seen it, it never talks plain http to this host again (a demo or
test served over http must not send it)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS_VALUE = "max-age=31536000; includeSubDomains"
"""One year, as the NCSC and the NHS's own sites ask."""


class StrictTransportMiddleware:
    """Adds `Strict-Transport-Security` to every HTTP response (plain ASGI, no overhead)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Strict-Transport-Security"] = HSTS_VALUE
            await send(message)

        await self.app(scope, receive, send_with_hsts)

"""A small keep-alive HTTP/1.1 client for the booking benchmark's load generators.

The benchmark's clients share the machine's two cores with the server under test; httpx spends
about a millisecond of CPU per request, which the server then cannot use. This one is the
standard library's `http.client` over one persistent loopback connection: the server does the
same work per request, the load generator just costs less."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LoopbackClient:
    """One keep-alive connection to `base` (http://127.0.0.1:port), default headers on every
    request; reconnects once if the server closed the idle connection."""

    def __init__(self, base: str, headers: dict[str, str], timeout_s: float = 60) -> None:
        parts = urlsplit(base)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError(f"the benchmark talks to loopback only, not {base}")
        self._address = (parts.hostname, parts.port or 80)
        self._headers = headers
        self._timeout_s = timeout_s
        self._connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> Answer:
        return self._send("GET", path, None, {})

    def post(self, path: str, json_body: Any, headers: dict[str, str]) -> Answer:
        body = json.dumps(json_body).encode()
        return self._send("POST", path, body, {"Content-Type": "application/json", **headers})

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _send(self, method: str, path: str, body: bytes | None,
              headers: dict[str, str]) -> Answer:
        for attempt in (1, 2):
            connection = self._connection or self._connect()
            try:
                connection.request(method, path, body=body, headers={**self._headers, **headers})
                response = connection.getresponse()
                return Answer(response.status, response.read())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        host, port = self._address
        self._connection = http.client.HTTPConnection(host, port, timeout=self._timeout_s)
        return self._connection

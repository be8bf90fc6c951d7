"""A receiving end for the benchmark's status messages: an MLLP listener in a thread of this
process on a given loopback port, recording the control id (MSH-10) of each message."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from booking_api.interop.hl7.mllp import serve_mllp


class Received:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: list[str] = []

    def answer(self, message: str) -> str:
        control = message.split("\r", 1)[0].split("|")[9]
        with self._lock:
            self._ids.append(control)
        return f"MSH|^~\\&|OCS|T|CDIP|WMIN|20261201||ACK|R|P|2.5.1\rMSA|AA|{control}"

    def control_ids(self) -> list[str]:
        with self._lock:
            return list(self._ids)


@contextmanager
def receiving_end(port: int) -> Iterator[Received]:
    received, ready, box = Received(), threading.Event(), {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        box["loop"] = loop
        server = loop.run_until_complete(serve_mllp(received.answer, "127.0.0.1", port))
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=run, daemon=True, name="bench-receiver")
    thread.start()
    if not ready.wait(10):
        raise RuntimeError(f"the receiving end could not listen on port {port}")
    try:
        yield received
    finally:
        box["loop"].call_soon_threadsafe(box["loop"].stop)
        thread.join(10)

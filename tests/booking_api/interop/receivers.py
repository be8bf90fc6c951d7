"""Receiving ends for status out: an MLLP listener in a thread that records every message and
answers AA (or nothing while `down`), on a free loopback port."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from booking_api.interop.hl7.mllp import serve_mllp


class RecordingReceiver:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.port = 0

    def answer(self, message: str) -> str:
        self.messages.append(message)
        control = message.split("\r", 1)[0].split("|")[9]
        return f"MSH|^~\\&|RIS|T|CDIP|WMIN|20261201||ACK|R{len(self.messages)}|P|2.5.1\r" \
               f"MSA|AA|{control}"

    def types(self) -> list[str]:
        return [m.split("\r", 1)[0].split("|")[8] for m in self.messages]


@contextmanager
def mllp_receiver(port: int = 0) -> Iterator[RecordingReceiver]:
    receiver = RecordingReceiver()
    ready, loop_box = threading.Event(), {}

    def run() -> None:
        loop = asyncio.new_event_loop()
        loop_box["loop"] = loop
        server = loop.run_until_complete(serve_mllp(receiver.answer, "127.0.0.1", port))
        receiver.port = server.sockets[0].getsockname()[1]
        loop_box["server"] = server
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield receiver
    finally:
        loop_box["loop"].call_soon_threadsafe(loop_box["loop"].stop)
        thread.join(5)

"""MLLP (the Minimal Lower Layer Protocol of HL7 v2): each message framed as <VT> message
<FS><CR> over TCP. An asyncio server that answers every message on a connection in order
(the handler runs in a thread: it uses the database), and a small blocking client for the
outbound side and for tests and benchmarks."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

START = b"\x0b"
END = b"\x1c\r"
MAX_MESSAGE_BYTES = 1_000_000
logger = logging.getLogger(__name__)

Handler = Callable[[str], str]
"""Message text in, ACK text out (blocking)."""


class MllpError(ConnectionError):
    """The peer broke the framing or closed before answering."""


def frame(message: str) -> bytes:
    return START + message.encode("utf-8") + END


def unframe(data: bytes) -> str:
    """The message inside one frame (bytes before <VT> are ignored, as MLLP allows)."""
    start = data.find(START)
    if start < 0 or not data.endswith(END):
        raise MllpError("not an MLLP frame")
    return data[start + 1:-len(END)].decode("utf-8", errors="replace")


async def serve_mllp(handler: Handler, host: str, port: int,
                     concurrency: int = 8, reuse_port: bool = False) -> asyncio.Server:
    """Start listening; each connection's messages are answered in order, and at most
    `concurrency` messages are handled at once across connections. With `reuse_port`,
    several processes listen on one port and the kernel shares connections among them."""
    room = asyncio.Semaphore(concurrency)

    async def on_connection(reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    data = await reader.readuntil(END)
                except asyncio.IncompleteReadError:
                    return
                except asyncio.LimitOverrunError:
                    logger.warning("MLLP frame too long", extra={"event": "mllp_too_long",
                                                                 "peer": str(peer)})
                    return
                async with room:
                    answer = await asyncio.to_thread(handler, unframe(data))
                writer.write(frame(answer))
                await writer.drain()
        except Exception as error:  # the peer went, or a handler failed: end this connection
            logger.info("MLLP connection ended", extra={"event": "mllp_closed",
                                                        "peer": str(peer), "why": str(error)})
        finally:
            writer.close()

    return await asyncio.start_server(on_connection, host, port, limit=MAX_MESSAGE_BYTES,
                                      reuse_port=reuse_port or None)


class MllpClient:
    """One TCP connection to an MLLP listener: send a message, read its ACK."""

    def __init__(self, host: str, port: int, timeout_s: float = 10.0) -> None:
        self._socket = socket.create_connection((host, port), timeout=timeout_s)
        self._buffer = b""

    def send(self, message: str) -> str:
        self._socket.sendall(frame(message))
        while END not in self._buffer:
            chunk = self._socket.recv(65536)
            if not chunk:
                raise MllpError("the listener closed the connection before answering")
            self._buffer += chunk
            if len(self._buffer) > MAX_MESSAGE_BYTES:
                raise MllpError("the answer is too long")
        data, _, self._buffer = self._buffer.partition(END)
        return unframe(data + END)

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> MllpClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """'host:port' of an MLLP subscriber."""
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"MLLP endpoint '{endpoint}' must be host:port")
    return host, int(port)

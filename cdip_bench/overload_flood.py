"""The flood of `cdip bench overload`, run as its own process so its CPU is not the
measuring client's: N concurrent unauthenticated clients on keep-alive loopback connections,
each alternating `GET /health` and a staff sign-in with a wrong password, as fast as the
server answers, until a line arrives on stdin; then one JSON line of counts and latencies.

    python -m cdip_bench.overload_flood http://127.0.0.1:PORT N [both|health|sign-in]

Written on asyncio streams with a few lines of HTTP/1.1: a flood of 400 in Python would
otherwise be limited by its own client library rather than by the server."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

REQUEST_TIMEOUT_S = 30.0


def _requests(host: str, client: int, kinds: str) -> tuple[bytes, bytes]:
    health = f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    body = json.dumps({"username": f"flood.{client}", "password": "wrong password"}).encode()
    sign_in = (f"POST /api/auth/staff/sign-in HTTP/1.1\r\nHost: {host}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
               ).encode() + body
    if kinds == "health":
        return health, health
    if kinds == "sign-in":
        return sign_in, sign_in
    return health, sign_in


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    request: bytes) -> tuple[int, bool]:
    """Send one request, read its response; (status, whether the server closes)."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    length, closes = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and value.strip().lower() == "close":
            closes = True
    if length:
        await reader.readexactly(length)
    return status, closes


async def _client(number: int, address: tuple[str, int], kinds: str, stop: asyncio.Event,
                  statuses: Counter, latencies: list[float]) -> None:
    host = f"{address[0]}:{address[1]}"
    requests = _requests(host, number, kinds)
    turn = number % 2
    reader = writer = None
    while not stop.is_set():
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(*address)
            status, closes = await asyncio.wait_for(
                _exchange(reader, writer, requests[turn]), REQUEST_TIMEOUT_S)
            statuses[str(status)] += 1
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
            statuses[f"error:{type(error).__name__}"] += 1
            closes = True
        latencies.append((time.perf_counter() - started) * 1000)
        if closes and writer is not None:
            writer.close()
            reader = writer = None
        turn = 1 - turn
    if writer is not None:
        writer.close()


async def flood(base: str, clients: int, kinds: str = "both") -> dict:
    parts = urlsplit(base)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    stop = asyncio.Event()
    statuses: Counter = Counter()
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), stop.set)
    started = time.perf_counter()
    print("flooding", flush=True)
    await asyncio.gather(*(_client(n, address, kinds, stop, statuses, latencies)
                           for n in range(clients)))
    latencies.sort()
    return {"clients": clients, "seconds": round(time.perf_counter() - started, 2),
            "statuses": dict(statuses), "requests": len(latencies),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else 0,
            "max_ms": round(latencies[-1], 1) if latencies else 0}


def main() -> None:
    base, clients = sys.argv[1], int(sys.argv[2])
    kinds = sys.argv[3] if len(sys.argv) > 3 else "both"
    print(json.dumps(asyncio.run(flood(base, clients, kinds))), flush=True)


if __name__ == "__main__":
    main()

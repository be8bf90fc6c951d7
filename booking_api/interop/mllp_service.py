"""The MLLP listener of `cdip serve-mllp`: HL7 orders in over TCP, answered by the same
handler as HTTP, until interrupted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from booking_api.core.db import Database
from booking_api.interop.hl7.acks import new_control_id
from booking_api.interop.hl7.mllp import serve_mllp
from booking_api.interop.hl7_inbound import handle_hl7

logger = logging.getLogger(__name__)


def order_handler(db: Database, clock: Callable[[], datetime]) -> Callable[[str], str]:
    return lambda message: handle_hl7(db, message, clock(), new_control_id)


async def run_mllp(db: Database, clock: Callable[[], datetime], host: str, port: int,
                   concurrency: int, started: Callable[[int], None] | None = None,
                   reuse_port: bool = False) -> None:
    """Listen until cancelled; `started` is told the bound port (0 asks for a free one)."""
    server = await serve_mllp(order_handler(db, clock), host, port, concurrency, reuse_port)
    bound = server.sockets[0].getsockname()[1]
    logger.info("MLLP listening", extra={"event": "mllp_listening", "host": host,
                                         "port": bound})
    if started is not None:
        started(bound)
    async with server:
        await server.serve_forever()


def serve_mllp_forever(db: Database, clock: Callable[[], datetime], host: str, port: int,
                       concurrency: int, reuse_port: bool = False) -> None:
    try:
        asyncio.run(run_mllp(db, clock, host, port, concurrency, reuse_port=reuse_port))
    except KeyboardInterrupt:
        logger.info("MLLP listener stopped", extra={"event": "mllp_stopped"})

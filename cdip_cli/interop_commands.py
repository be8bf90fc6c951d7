"""`cdip serve-mllp` (HL7 orders in over MLLP) and `cdip interop ...` (the order-code map,
subscribers to status messages)."""

from __future__ import annotations

from pathlib import Path

import typer

from booking_api.core.clock import DEFAULT_CLOCK
from booking_api.core.config import get_settings
from booking_api.database import open_database
from booking_api.interop.models import Protocol, Subscriber, SubscriberScope
from booking_api.interop.order_codes import (
    SHIPPED_MAP,
    OrderCodeFileError,
    load_code_map,
    read_code_map,
)

app = typer.Typer(help="Interfaces with referrers: order codes, subscribers.",
                  no_args_is_help=True)


def serve_mllp(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(2575, min=1, max=65535, help="TCP port (2575: HL7's own)"),
    concurrency: int = typer.Option(8, min=1, max=64, help="messages handled at once, each "
                                                           "process"),
    workers: int = typer.Option(1, min=1, max=16, help="processes sharing the port (reading "
                                                       "HL7 is CPU work: one per core)"),
) -> None:
    """Take HL7 v2.5.1 orders (ORM^O01, OMI^O23) over MLLP on HOST:PORT and answer each
    with its ACK; a resent message (same MSH-10) is answered alike and acted on once."""
    import multiprocessing

    children = [multiprocessing.get_context("spawn").Process(
        target=_listen, args=(host, port, concurrency, True), daemon=True)
        for _ in range(workers - 1)]
    for child in children:
        child.start()
    try:
        _listen(host, port, concurrency, workers > 1)
    finally:
        for child in children:
            child.terminate()


def _listen(host: str, port: int, concurrency: int, reuse_port: bool) -> None:
    from booking_api.core.logging import configure_logging
    from booking_api.interop.mllp_service import serve_mllp_forever

    configure_logging()
    db = open_database(get_settings().database_url)
    try:
        serve_mllp_forever(db, DEFAULT_CLOCK, host, port, concurrency, reuse_port)
    finally:
        db.dispose()


@app.command("load-codes")
def load_codes(path: Path = typer.Argument(SHIPPED_MAP, exists=True, dir_okay=False,
                                           help="CSV: code_system,code,exam_code,display")
               ) -> None:
    """Load an order-code map (and every catalogue exam as its own NICIP code)."""
    db = open_database(get_settings().database_url)
    try:
        with db.transaction() as session:
            count = load_code_map(session, read_code_map(path))
    except OrderCodeFileError as error:
        typer.echo(f"Not loaded: {error}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        db.dispose()
    typer.echo(f"{count} order codes loaded from {path.name}")


@app.command("subscribe")
def subscribe(
    name: str = typer.Argument(..., help="the receiving system's name"),
    protocol: Protocol = typer.Option(..., help="hl7v2 (MLLP), fhir or webhook"),
    endpoint: str = typer.Option(..., help="host:port (hl7v2) or URL (fhir, webhook)"),
    scope: SubscriberScope = typer.Option(SubscriberScope.OWN_ORDERS,
                                          help="own_orders or all"),
    placer_system: str | None = typer.Option(None, help="for own_orders: its MSH-3 / FHIR "
                                                        "username"),
    secret: str | None = typer.Option(None, envvar="CDIP_WEBHOOK_SECRET",
                                      help="the webhook's HMAC key"),
) -> None:
    """Register a system to hear of every state change (status out)."""
    if scope is SubscriberScope.OWN_ORDERS and not placer_system:
        typer.echo("Not added: --placer-system is required with scope own_orders", err=True)
        raise typer.Exit(code=1)
    if protocol is Protocol.WEBHOOK and not secret:
        typer.echo("Not added: a webhook needs --secret (or CDIP_WEBHOOK_SECRET)", err=True)
        raise typer.Exit(code=1)
    db = open_database(get_settings().database_url)
    try:
        with db.transaction() as session:
            session.add(Subscriber(name=name, protocol=protocol, endpoint=endpoint,
                                   scope=scope, placer_system=placer_system, secret=secret))
    finally:
        db.dispose()
    typer.echo(f"{name} subscribed ({protocol.value}, {scope.value})")


@app.command("deliver")
def deliver() -> None:
    """Send outbound status messages until interrupted (retrying, in order per request)."""
    import time

    from booking_api.core.logging import configure_logging
    from booking_api.interop.delivery import OutboundWorker

    configure_logging()
    db = open_database(get_settings().database_url)
    worker = OutboundWorker(db, DEFAULT_CLOCK).start()
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        db.dispose()

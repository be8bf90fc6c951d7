"""`cdip serve`: run the web service with uvicorn."""

from __future__ import annotations

import logging

import typer

from booking_api.core import migrate
from booking_api.core.config import UnsafeSettings, get_settings
from booking_api.core.db import database_kind, make_engine
from booking_api.core.logging import configure_logging

logger = logging.getLogger("cdip.serve")


def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port"),
) -> None:
    """Serve the API and the patient portal on HOST:PORT."""
    settings = get_settings()
    try:
        settings.check_safe_to_serve()
    except UnsafeSettings as error:
        typer.echo(f"Refusing to start: {error}", err=True)
        raise typer.Exit(code=2) from None
    _require_migrated(settings.database_url)
    # Imported here: every `cdip` command loads this module, only `serve` needs the web stack.
    import uvicorn

    from cdip_web.app import create_app

    configure_logging()
    logger.info("starting", extra={"host": host, "port": port,
                                   "database": database_kind(settings.database_url),
                                   "environment": settings.environment})
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)


def _require_migrated(url: str) -> None:
    engine = make_engine(url)
    try:
        current = migrate.current_revision(engine)
    finally:
        engine.dispose()
    head = migrate.head_revision()
    if current != head:
        typer.echo(f"Refusing to start: the database is at revision {current or 'none'} but "
                   f"the code needs {head}; run `cdip db upgrade` first.", err=True)
        raise typer.Exit(code=2)

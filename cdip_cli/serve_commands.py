"""`cdip serve`: run the web service with uvicorn."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import typer

from booking_api.core import migrate
from booking_api.core.config import Environment, Settings, UnsafeSettings, get_settings
from booking_api.core.db import database_kind, make_engine
from booking_api.core.logging import configure_logging

logger = logging.getLogger("cdip.serve")
DEMO_FROM_NUMBER = "+447700900000"
"""The demo's sending number (Ofcom's drama range: it reaches nobody)."""


def serve(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port"),
    fake_providers: bool = typer.Option(
        False, "--fake-providers",
        help="demo only: run the fake SMS provider and a local mail catcher in this process "
             "and send the outbox's messages to them (listed at /demo/messages)"),
) -> None:
    """Serve the API and the patient portal on HOST:PORT."""
    settings = get_settings()
    if fake_providers and settings.environment is not Environment.DEMO:
        typer.echo("Refusing to start: --fake-providers is for the demo environment only "
                   f"(CDIP_ENVIRONMENT is '{settings.environment}')", err=True)
        raise typer.Exit(code=2)
    try:
        settings.check_safe_to_serve()
    except UnsafeSettings as error:
        typer.echo(f"Refusing to start: {error}", err=True)
        raise typer.Exit(code=2) from None
    require_migrated(settings.database_url)
    # Imported here: every `cdip` command loads this module, only `serve` needs the web stack.
    import uvicorn

    from booking_api.demo.leftovers import DemoLeftovers
    from cdip_web.app import create_app

    configure_logging()
    with ExitStack() as stack:
        if fake_providers:
            settings = stack.enter_context(_with_fake_providers(settings))
        logger.info("starting", extra={"host": host, "port": port,
                                       "database": database_kind(settings.database_url),
                                       "environment": settings.environment})
        try:
            app = create_app(settings)
        except DemoLeftovers as refused:
            typer.echo(f"Refusing to start: {refused}", err=True)
            raise typer.Exit(code=2) from None
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                    **uvicorn_proxy_options())


@contextmanager
def _with_fake_providers(settings: Settings) -> Iterator[Settings]:
    """The fake Twilio (100-300 ms a request, signed status callbacks and replies to this
    server) and an SMTP catcher keeping mail under var/mail, on free local ports; the
    settings that point the outbox at them."""
    from fake_providers.__main__ import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
    from fake_providers.smtp_catcher import running_smtp_catcher
    from fake_providers.twilio_server import running_fake_twilio

    maildir = Path.cwd() / "var" / "mail"
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: a line per command
    inbound = f"{settings.public_base_url}/api/webhooks/twilio/inbound"
    with running_fake_twilio(DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, inbound_url=inbound,
                             latency_ms=(100, 300)) as twilio, \
            running_smtp_catcher(maildir) as smtp:
        typer.echo(f"Fake SMS provider: {twilio.base_url}; mail catcher: "
                   f"{smtp.host}:{smtp.port} (Maildir {maildir})")
        typer.echo(f"What was sent: {settings.public_base_url}/demo/messages")
        yield settings.model_copy(update={
            "twilio_account_sid": DEMO_ACCOUNT_SID, "twilio_auth_token": DEMO_AUTH_TOKEN,
            "twilio_from_number": DEMO_FROM_NUMBER, "twilio_api_base_url": twilio.base_url,
            "sms_fictional_numbers": True, "smtp_host": smtp.host, "smtp_port": smtp.port,
            "demo_maildir": maildir})


def uvicorn_proxy_options() -> dict[str, object]:
    """Uvicorn must not rewrite the client address from X-Forwarded-For: by default it
    believes any such header from 127.0.0.1, which let a local caller pick its own address
    and escape the per-client sign-in limit. The service reads forwarded addresses itself,
    only from CDIP_TRUSTED_PROXIES (`booking_api.access.clients`)."""
    return {"proxy_headers": False, "forwarded_allow_ips": ""}


def require_migrated(url: str) -> None:
    """Exit 2 unless the database is at the code's migration head."""
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

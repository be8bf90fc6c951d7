"""`cdip messages ...`: staff's view of the outbox in the database named by
CDIP_DATABASE_URL: dead letters (list, send again), the letter list (list, mark posted)."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Messages to patients: dead letters and the letter list.",
                  no_args_is_help=True)
STAFF_ACTOR = "cli"


def _database():
    from booking_api.core.config import get_settings
    from booking_api.database import open_database

    return open_database(get_settings().database_url)


def _show(summaries: list, as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps([asdict(s) for s in summaries], indent=2, default=str))
        return
    table = Table(title=f"{title} ({len(summaries)})")
    for column in ("id", "appointment", "event", "channel", "state", "attempts", "due",
                   "last error"):
        table.add_column(column)
    for s in summaries:
        table.add_row(str(s.id), str(s.appointment_id), s.event_key, s.channel.value,
                      s.state.value, str(s.attempts), s.due_at.isoformat(timespec="minutes"),
                      (s.last_error or "")[:80])
    Console(width=160).print(table)


@app.command("dead")
def dead(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Messages that failed for good: after every retry, or refused by the provider."""
    from booking_api.outbox.services import dead_letters

    db = _database()
    try:
        with db.reading() as session:
            _show(dead_letters(session), as_json, "dead letters")
    finally:
        db.dispose()


@app.command("letters")
def letters(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Messages to post, for patients who take neither texts nor email."""
    from booking_api.outbox.services import letters_to_post

    db = _database()
    try:
        with db.reading() as session:
            _show(letters_to_post(session), as_json, "letters to post")
    finally:
        db.dispose()


@app.command("resend")
def resend(message_id: int = typer.Argument(..., help="The dead letter's id."),
           user: str = typer.Option(..., "--by", help="Your staff user name (audited).")
           ) -> None:
    """Queue a dead letter again; it is checked again when sent."""
    _change("resend", message_id, user)


@app.command("posted")
def posted(message_id: int = typer.Argument(..., help="The letter's message id."),
           user: str = typer.Option(..., "--by", help="Your staff user name (audited).")
           ) -> None:
    """Record that a letter has been posted."""
    _change("posted", message_id, user)


def _change(what: str, message_id: int, user: str) -> None:
    from booking_api.audit.services import Actor
    from booking_api.core.channel import Channel
    from booking_api.core.columns import utc_now
    from booking_api.core.errors import BookingError
    from booking_api.outbox.services import mark_posted
    from booking_api.outbox.services import resend as resend_message

    change = {"resend": resend_message, "posted": mark_posted}[what]
    actor = Actor(f"clerk:{user}", Channel.CLERK, role="clerk")
    db = _database()
    try:
        with db.transaction() as session:
            summary = change(session, actor, message_id, utc_now())
    except BookingError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    typer.echo(f"message {summary.id}: {summary.state.value}")

"""`cdip backfill ...`: staff's view of backfill in the database named by CDIP_DATABASE_URL:
the freed slots (the clerks' list among them), a freed slot's offer trail (who, when, why in
that order, their answer), and stopping or redirecting a slot's offers."""

from __future__ import annotations

import json
from dataclasses import asdict

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Backfill of freed slots: the clerks' list, offer trails, stopping, "
                       "redirecting.", no_args_is_help=True)


def _database():
    from booking_api.core.config import get_settings
    from booking_api.database import open_database

    return open_database(get_settings().database_url)


@app.command("list")
def list_freed(state: str = typer.Option(None, help="e.g. clerk_list, offering, filled"),
               limit: int = typer.Option(50, min=1, max=500),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Freed slots, newest first."""
    from booking_api.backfill.models import FreedState
    from booking_api.backfill.read_models import freed_slots

    try:
        wanted = FreedState(state) if state else None
    except ValueError:
        raise typer.BadParameter(f"use one of {', '.join(s.value for s in FreedState)}",
                                 param_hint="--state") from None
    rows = freed_slots(_database(), wanted, limit)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2, default=str))
        return
    table = Table(title=f"Freed slots ({len(rows)})")
    for column in ("id", "slot", "site", "starts", "cause", "state", "depth", "why"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r.id), str(r.slot_id), r.site_id,
                      r.start_at.isoformat(timespec="minutes"), r.cause, r.state,
                      str(r.depth), (r.state_reason or "")[:60])
    Console(width=160).print(table)


@app.command("trail")
def trail(freed_id: int = typer.Argument(None, help="The freed slot's id."),
          slot: int = typer.Option(None, "--slot", help="Every freed-slot trail of a slot."),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """The offer trail of a freed slot: each offer's place, reasons, times and answer."""
    from booking_api.backfill.read_models import trail as read_trail
    from booking_api.backfill.read_models import trails_of_slot
    from booking_api.core.errors import BookingError

    if (freed_id is None) == (slot is None):
        raise typer.BadParameter("give a freed slot id or --slot, not both", param_hint="ID")
    db = _database()
    try:
        trails = [read_trail(db, freed_id)] if freed_id is not None else trails_of_slot(db, slot)
    except BookingError as error:
        typer.echo(f"Error: {error.message}", err=True)
        raise typer.Exit(1) from error
    if as_json:
        typer.echo(json.dumps([asdict(t) for t in trails], indent=2, default=str))
        return
    for t in trails:
        f = t.freed
        table = Table(title=f"Freed slot {f.id}: slot {f.slot_id} at {f.site_id}, "
                            f"{f.start_at.isoformat(timespec='minutes')} ({f.cause}); "
                            f"{f.state} {f.state_reason or ''}")
        for column in ("#", "request", "source", "state", "wave", "sent", "answered",
                       "why in this place"):
            table.add_column(column)
        for o in t.offers:
            table.add_row(str(o.position), str(o.request_id), o.source, o.state,
                          str(o.wave or ""), o.sent_at.isoformat(timespec="minutes")
                          if o.sent_at else "", o.answer_channel or "",
                          "; ".join(o.reasons) + (f" [{o.note}]" if o.note else ""))
        Console(width=200).print(table)


@app.command("stop")
def stop(freed_id: int = typer.Argument(..., help="The freed slot's id."),
         reason: str = typer.Option(..., help="Why (audited)."),
         user: str = typer.Option(..., "--by", help="Your staff user name (audited).")) -> None:
    """Stop a freed slot's offers; live offers are told it has gone."""
    from booking_api.audit.services import Actor
    from booking_api.backfill.flows import stop_offers
    from booking_api.core.channel import Channel
    from booking_api.core.columns import utc_now
    from booking_api.core.errors import BookingError

    try:
        stop_offers(_database(), Actor(f"clerk:{user}", Channel.CLERK, role="clerk"),
                    freed_id, reason, now=utc_now())
    except BookingError as error:
        typer.echo(f"Error: {error.message}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Stopped the offers of freed slot {freed_id}.")


@app.command("redirect")
def redirect(freed_id: int = typer.Argument(..., help="The freed slot's id."),
             request_id: int = typer.Option(..., "--request", help="The request to offer it to."),
             reason: str = typer.Option(..., help="Why (audited)."),
             user: str = typer.Option(..., "--by", help="Your staff user name (audited).")
             ) -> None:
    """Offer a freed slot to one chosen request instead (its rules checked like anyone's);
    the offers live now are told it has gone."""
    from booking_api.audit.services import Actor
    from booking_api.backfill.flows import redirect_offers
    from booking_api.backfill.policy import OfferPolicy
    from booking_api.core.channel import Channel
    from booking_api.core.columns import utc_now
    from booking_api.core.config import get_settings
    from booking_api.core.errors import BookingError

    try:
        offer = redirect_offers(_database(), Actor(f"clerk:{user}", Channel.CLERK, role="clerk"),
                                freed_id, request_id, reason, now=utc_now(),
                                policy=OfferPolicy.from_settings(get_settings()))
    except BookingError as error:
        typer.echo(f"Error ({error.field}): {error.message}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"Offered freed slot {freed_id} to request {request_id} (offer {offer.id}, "
               f"until {offer.expires_at:%H:%M UTC}).")

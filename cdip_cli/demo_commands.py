"""`cdip demo references`: demo booking references that have free times to book."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

app = typer.Typer(help="Helpers for the demo network.", no_args_is_help=True)


@app.command("references")
def references(limit: int = typer.Option(5, min=1, max=50, help="how many to list")) -> None:
    """List demo booking references (with dates of birth) that can be booked now."""
    from booking_api.core.config import get_settings
    from booking_api.database import open_engine
    from booking_api.demo.bookable import bookable_references

    settings = get_settings()
    engine = open_engine(settings.database_url)
    try:
        found = bookable_references(engine, datetime.now(UTC), limit)
    finally:
        engine.dispose()
    if not found:
        typer.echo("No demo request has a free time yet: run `cdip diary build` first.")
        raise typer.Exit(1)
    typer.echo("Demo booking references with free times (sign in with reference and birth date):")
    for ref in found:
        when = ref.earliest_start.astimezone(settings.zone)
        typer.echo(f"  {ref.booking_reference}  born {ref.date_of_birth}  {ref.exam_name}; "
                   f"earliest {when:%a %d %b %H:%M} at {ref.earliest_site}")

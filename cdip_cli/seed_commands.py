"""`cdip seed`: load the reference network, exam catalogue and demo patients into the database."""

from __future__ import annotations

from datetime import date, datetime

import typer

from booking_api.core.config import get_settings
from booking_api.database import open_engine
from booking_api.demo.seed import SeedSummary, seed_demo
from cdip_cli.staff_commands import seed_demo_staff


def seed(
    today: str = typer.Option(None, help="date the demo is set on, YYYY-MM-DD (default: today)"),
    patients: int = typer.Option(50, min=1, max=1000, help="number of demo patients"),
) -> None:
    """Load the reference network, exam catalogue and demo patients (idempotent).

    One transaction: a failure leaves the database as it was; a second run changes nothing.
    """
    settings = get_settings()
    day = _parse_day(today) if today else datetime.now(settings.zone).date()
    engine = open_engine(settings.database_url)
    try:
        summary = seed_demo(engine, today=day, patients=patients)
        _print_summary(summary)
        seed_demo_staff(engine, settings)
    finally:
        engine.dispose()


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a date as YYYY-MM-DD",
                                 param_hint="--today") from None


def _print_summary(summary: SeedSummary) -> None:
    for table in summary.reference_tables:
        kept = f", {table.kept_unlisted} kept (no longer in the files)" \
            if table.kept_unlisted else ""
        total = table.inserted + table.updated + table.unchanged
        typer.echo(f"{table.table:<12} {total:>5} rows: {table.inserted} added, "
                   f"{table.updated} updated{kept}")
    typer.echo(f"{'patient':<12} {summary.patients_total:>5} rows: "
               f"{summary.patients_added} added")
    typer.echo(f"{'request':<12} {summary.requests_total:>5} rows: "
               f"{summary.requests_added} added")
    typer.echo("\nDemo booking references (sign in with the reference and date of birth; once "
               "diaries are built, `cdip demo references` lists those with free times):")
    for example in summary.examples:
        typer.echo(f"  {example.booking_reference}  born {example.date_of_birth:%d %B %Y}  "
                   f"{example.exam_name} ({example.priority})")

"""`cdip disruption add|list|revoke`: report what went wrong in the diary (room down, site
closed, staff short, list cancelled, extra list), see them, withdraw one. Checked and audited
by the booking service; bad input exits 2 naming the field and keeps nothing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from booking_api.core.config import get_settings
from booking_api.core.db import transaction
from booking_api.core.errors import BookingError
from booking_api.database import open_engine
from booking_api.diary.disruptions import add_disruption, list_disruptions, revoke_disruption
from booking_api.diary.models import DisruptionCreate, DisruptionKind
from cdip_cli.actors import cli_actor
from domain.session_templates import session_templates
from domain.vocabulary import SessionPeriod, StaffRole

app = typer.Typer(help="Disruptions to the diary: rooms down, staff short, lists changed.",
                  no_args_is_help=True)


@app.callback()
def disruption() -> None:
    """Disruptions to the diary: rooms down, staff short, lists changed."""


@app.command("add")
def add(
    kind: Annotated[DisruptionKind, typer.Option(help="What happened.")],
    first_day: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    reason: Annotated[str, typer.Option(help="What happened, for the audit and the clerks.")],
    last_day: Annotated[str | None, typer.Option(
        "--to", help="Last day, YYYY-MM-DD (default: the first).")] = None,
    room: Annotated[str | None, typer.Option(
        help="Room id: room_down, session_cancelled, extra_list.")] = None,
    site: Annotated[str | None, typer.Option(help="Site id: site_closed, staff_short.")] = None,
    role: Annotated[StaffRole | None, typer.Option(help="staff_short: the role short.")] = None,
    people: Annotated[int | None, typer.Option(help="staff_short: how many fewer.")] = None,
    period: Annotated[SessionPeriod | None, typer.Option(
        help="session_cancelled, extra_list: the session.")] = None,
    template: Annotated[str | None, typer.Option(
        help="extra_list: the list's session template.")] = None,
) -> None:
    """Keep a disruption; `cdip diary repair` re-plans around it."""
    try:
        body = DisruptionCreate(kind=kind, room_id=room, site_id=site, role=role, people=people,
                                first_day=_day(first_day, "--from"),
                                last_day=_day(last_day, "--to") if last_day else None,
                                period=period, template_id=template, reason=reason)
    except ValidationError as error:
        problem = error.errors()[0]
        _fail(f"{problem['loc'][-1]}: {problem['msg']}")
    settings = get_settings()
    record = _in_transaction(lambda session: add_disruption(
        session, cli_actor(), body, templates=session_templates(),
        now=datetime.now(settings.zone), zone=settings.zone))
    typer.echo(f"disruption {record[0]} kept: {record[1]}")


@app.command("list")
def show(
    every: Annotated[bool, typer.Option("--all", help="Also revoked and past ones.")] = False,
) -> None:
    """Disruptions still running (or every one with --all)."""
    settings = get_settings()
    today = datetime.now(settings.zone).date()
    engine = open_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            rows = list_disruptions(session, active_only=not every,
                                    ending_from=None if every else today)
            table = Table(title="disruptions", title_justify="left")
            for column in ("id", "kind", "where", "days", "state", "reason"):
                table.add_column(column)
            for row in rows:
                table.add_row(str(row.id), row.kind.value, _where(row), _days(row),
                              row.state.value, row.reason)
    finally:
        engine.dispose()
    Console().print(table)


@app.command("revoke")
def revoke(
    disruption_id: Annotated[int, typer.Argument(help="The disruption's id.")],
    reason: Annotated[str, typer.Option(help="Why it is withdrawn.")],
) -> None:
    """Withdraw a disruption (kept, marked revoked, audited)."""
    settings = get_settings()
    record = _in_transaction(lambda session: revoke_disruption(
        session, cli_actor(), disruption_id, reason, now=datetime.now(settings.zone)))
    typer.echo(f"disruption {record[0]} revoked")


def _in_transaction(change) -> tuple[int, str]:
    engine = open_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            record = change(session)
            return record.id, f"{record.kind.value} {_where(record)} {_days(record)}"
    except BookingError as error:
        _fail(f"{error.field}: {error.message}" if error.field else error.message)
    finally:
        engine.dispose()


def _where(row) -> str:
    if row.site_id:
        return row.site_id + (f" {row.people} {row.role.value}" if row.role else "")
    return row.room_id + (f" {row.period.value}" if row.period else "") + (
        f" {row.template_id}" if row.template_id else "")


def _days(row) -> str:
    return (str(row.first_day) if row.first_day == row.last_day
            else f"{row.first_day} to {row.last_day}")


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option}: '{value}' is not a date as YYYY-MM-DD")


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)

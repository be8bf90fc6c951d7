"""`cdip diary ...`: build the network's diaries (sessions and bookable slots) for coming weeks,
and show one site's day. Demand comes from the seeded stand-in demand model until forecasts are
wired in."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from booking_api.core.config import get_settings
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.diary.flows import WeekBuilt, build_and_write_weeks
from booking_api.diary.services import sessions_on
from domain.network import load_reference_network
from domain.session_templates import session_templates
from domain.staff_availability import load_reference_staff_availability
from optimiser import DiaryInputError
from optimiser.demand_model import synthetic_weekly_demand
from optimiser.problem import PERIODS

app = typer.Typer(help="Diaries: which template runs in which room and session.",
                  no_args_is_help=True)


@app.callback()
def diary() -> None:
    """Diaries: which template runs in which room and session."""


@app.command("build")
def build(
    week: Annotated[str | None, typer.Option(
        help="Monday of the first week, YYYY-MM-DD (default: next Monday).")] = None,
    weeks: Annotated[int, typer.Option(min=1, max=26, help="Consecutive weeks.")] = 1,
    time_limit: Annotated[float, typer.Option(
        min=0.1, help="Seconds per week for the optimiser.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed of the stand-in demand model.")] = 0,
    travel_limit_km: Annotated[float, typer.Option(help="Furthest a patient is sent.")] = 50.0,
) -> None:
    """Plan each week from the one before and write its sessions and slots; sessions with
    held, booked or blocked slots are kept and listed as conflicts."""
    settings = get_settings()
    first = _parse_date(week, "--week") if week else _next_monday(
        datetime.now(settings.zone).date())
    network = load_reference_network()
    templates = session_templates()
    engine = open_engine(settings.database_url)
    try:
        built = build_and_write_weeks(
            engine, network, templates,
            lambda monday: synthetic_weekly_demand(network, templates, monday,
                                                   seed + monday.toordinal()),
            first, weeks, time_limit_s=time_limit,
            availability=load_reference_staff_availability(network), zone=settings.zone,
            now=datetime.now(settings.zone), travel_limit_km=travel_limit_km)
    except DiaryInputError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    _print_summary(built)


@app.command("show")
def show(
    site: Annotated[str, typer.Option(help="Site id, e.g. UHB-QE.")],
    day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD.")],
) -> None:
    """A readable day view: one line per room, its sessions and how their slots stand."""
    wanted = _parse_date(day, "--date")
    network = load_reference_network()
    if site not in network.site_by_id:
        typer.echo(f"--site: no site '{site}' in the network", err=True)
        raise typer.Exit(2)
    engine = open_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            views = sessions_on(session, site, wanted)
    finally:
        engine.dispose()
    templates = session_templates()
    table = Table(title=f"{network.site_by_id[site].name}, {wanted:%A %d %B %Y}")
    table.add_column("room")
    for period in PERIODS:
        table.add_column(f"{period.value} {period.start:%H:%M}-{period.end:%H:%M}")
    for room in network.rooms_at(site):
        cells = {v.period: v for v in views if v.room_id == room.room_id}
        table.add_row(room.room_id, *[_cell(templates, cells.get(p)) for p in PERIODS])
    Console().print(table)


def _cell(templates, view) -> str:
    if view is None:
        return "closed"
    template = templates.get(view.template_id)
    name = template.name if template else view.template_id
    counts = view.slots_by_status
    taken = counts.get("busy", 0) + counts.get("busy-tentative", 0)
    return f"{name}\n{counts.get('free', 0)} free, {taken} taken"


def _print_summary(built: list[WeekBuilt]) -> None:
    table = Table(title="diary build")
    for column in ("week", "sessions", "off-peak", "unmet", "mean km", "gap", "s", "stage",
                   "slots +", "slots −", "conflicts"):
        table.add_column(column)
    for week in built:
        m, r = week.plan.metrics, week.report
        table.add_row(str(week.week_start), str(m.room_sessions), str(m.offpeak_sessions),
                      str(m.unmet_exams), f"{m.mean_travel_km:.1f}",
                      "-" if week.plan.gap is None else f"{week.plan.gap:.1%}",
                      f"{week.plan.seconds:.0f}", week.plan.method, str(r.slots_created),
                      str(r.slots_withdrawn), str(len(r.conflicts)))
    Console().print(table)
    for week in built:
        for conflict in week.report.conflicts:
            typer.echo(f"kept {conflict.room_id} {conflict.session_date} {conflict.period}: "
                       f"{conflict.kept_template} (plan wanted {conflict.planned_template}); "
                       f"{conflict.reason}")
    for week in built:
        for error in week.plan.errors:
            typer.echo(f"optimiser fault in the week of {week.week_start}: {error}", err=True)
    if built and built[0].plan.diagnoses:
        typer.echo(f"{len(built[0].plan.diagnoses)} notes on demand that cannot be met, e.g.: "
                   f"{built[0].plan.diagnoses[0].reason}")


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.echo(f"{option}: '{value}' is not a date as YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None

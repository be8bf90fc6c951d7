"""`cdip diary ...`: build the network's diaries (sessions and bookable slots) for coming weeks
from what the service knows (a demand forecast fitted on its history, plus the appointable
requests waiting; staff from a rota export), and show one site's day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from booking_api.core.config import get_settings
from booking_api.core.db import transaction
from booking_api.core.errors import BookingError
from booking_api.database import open_engine
from booking_api.diary.demand import (
    DemandSourceError,
    PlannedDemand,
    planned_demand,
    read_service_history,
)
from booking_api.diary.disruptions import (
    add_disruption,
    as_repair_disruption,
    list_disruptions,
)
from booking_api.diary.flows import WeekBuilt, build_and_write_weeks, repair_and_apply
from booking_api.diary.models import DisruptionCreate, DisruptionKind
from booking_api.diary.repairs import open_follow_ups
from booking_api.diary.services import sessions_on
from cdip_cli.actors import cli_actor
from domain.data_files import DataFileError
from domain.network import load_reference_network
from domain.session_templates import session_templates
from domain.staff_availability import (
    StaffAvailability,
    load_reference_staff_availability,
    load_staff_availability,
)
from domain.vocabulary import SessionPeriod, StaffRole
from forecasting.demand import DEFAULT_MODEL, UnknownModelError
from optimiser import DiaryInputError
from optimiser.problem import PERIODS
from optimiser.repair import RepairInputError, RepairSettings

app = typer.Typer(help="Diaries: which template runs in which room and session.",
                  no_args_is_help=True)


@app.callback()
def diary() -> None:
    """Diaries: which template runs in which room and session."""


@app.command("build")
def build(
    week: Annotated[str | None, typer.Option(
        help="Monday of the first week, YYYY-MM-DD (default: next Monday).")] = None,
    weeks: Annotated[int, typer.Option(min=1, max=12, help="Consecutive weeks.")] = 1,
    time_limit: Annotated[float, typer.Option(
        min=0.1, help="Seconds per week for the optimiser.")] = 30.0,
    model: Annotated[str, typer.Option(
        help="Demand model: ets_shares, ets, seasonal_naive or boosting.")] = DEFAULT_MODEL,
    staff_availability: Annotated[Path | None, typer.Option(
        help="Rota and leave CSV (docs/staff-availability.md); default: the reference "
             "network's.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the forecast and the solver.")] = 0,
    travel_limit_km: Annotated[float, typer.Option(help="Furthest a patient is sent.")] = 50.0,
) -> None:
    """Forecast demand from the service's history (`cdip history import` and its own
    requests) plus the appointable requests waiting, then plan each week from the one before
    and write its sessions and slots; sessions with held, booked or blocked slots are kept and
    listed as conflicts."""
    settings = get_settings()
    console = Console()
    today = datetime.now(settings.zone).date()
    first = _parse_date(week, "--week") if week else _next_monday(today)
    if first.weekday() != 0:
        _fail(f"--week: {first} is a {first:%A}; weeks start on Monday")
    network = load_reference_network()
    templates = session_templates()
    availability = _availability(staff_availability, network)
    engine = open_engine(settings.database_url)
    try:
        with (console.status("reading the service's history and waiting list"),
              transaction(engine) as session):
            history = read_service_history(session, settings.zone, today)
        with console.status(f"forecasting demand ({model})"):
            demand = planned_demand(history, first, weeks, model=model, seed=seed)
        with _progress(console) as progress:
            task = progress.add_task("planning", total=weeks * 2)

            def tell(monday: date, stage: str) -> None:
                progress.update(task, description=f"week of {monday:%d %b}: {stage}",
                                advance=0 if stage == "planning" else 1)

            built = build_and_write_weeks(
                engine, network, templates, demand.rows, first, weeks,
                time_limit_s=time_limit, availability=availability, zone=settings.zone,
                now=datetime.now(settings.zone), travel_limit_km=travel_limit_km,
                progress=tell)
    except (DiaryInputError, DemandSourceError, UnknownModelError) as error:
        _fail(str(error))
    finally:
        engine.dispose()
    _print_sources(console, demand)
    _print_summary(console, built)


@app.command("repair")
def repair(
    first_day: Annotated[str | None, typer.Option(
        "--from", help="First day disrupted, YYYY-MM-DD.")] = None,
    last_day: Annotated[str | None, typer.Option(
        "--to", help="Last day disrupted (default: the first).")] = None,
    room: Annotated[str | None, typer.Option(help="A room out of use (or whose list "
                                                  "is cancelled or added).")] = None,
    site: Annotated[str | None, typer.Option(help="A site closed (or short of staff).")]
    = None,
    staff_short: Annotated[str | None, typer.Option(
        help="With --site: ROLE:N, e.g. radiographer:3.")] = None,
    period: Annotated[SessionPeriod | None, typer.Option(
        help="With --room: the one session cancelled (or added).")] = None,
    extra_list: Annotated[str | None, typer.Option(
        help="With --room and --period: the template of a list added.")] = None,
    disruption: Annotated[list[int] | None, typer.Option(
        help="Repair around disruptions already recorded (`cdip disruption add`).")] = None,
    reason: Annotated[str, typer.Option(help="What happened.")] = "reported by cli",
    dry_run: Annotated[bool, typer.Option(help="Show who would move where; change "
                                               "nothing.")] = False,
    time_limit: Annotated[float, typer.Option(min=0.5, help="Seconds for the optimiser.")]
    = 5.0,
) -> None:
    """Re-plan the diary around a disruption and print who moves where; without --dry-run,
    record the disruption and apply the repair in one transaction (each moved patient told
    by the outbox; those who cannot be placed go on the clerks' list)."""
    settings = get_settings()
    now = datetime.now(settings.zone)
    body = None if disruption else _disruption_body(first_day, last_day, room, site,
                                                    staff_short, period, extra_list, reason)
    templates = session_templates()
    network = load_reference_network()

    def disruptions(session) -> list:
        if body is None:
            return [(record.id, as_repair_disruption(record))
                    for record in _recorded(session, disruption)]
        record = add_disruption(session, cli_actor(), body, templates=templates, now=now,
                                zone=settings.zone)
        return [(record.id, as_repair_disruption(record))]

    engine = open_engine(settings.database_url)
    console = Console()
    try:
        with console.status("reading the diary and re-planning"):
            run = repair_and_apply(
                engine, cli_actor(), network, templates, disruptions, now=now,
                dry_run=dry_run, availability=load_reference_staff_availability(network),
                settings=RepairSettings(time_limit_s=time_limit))
    except BookingError as error:
        _fail(f"{error.field}: {error.message}" if error.field else error.message)
    except RepairInputError as error:
        _fail(str(error))
    finally:
        engine.dispose()
    _print_repair(console, run.result)
    if run.applied is None:
        console.print("dry run: nothing was changed", highlight=False)
    else:
        console.print(f"applied: {run.applied.moved} moved and told, "
                      f"{run.applied.follow_ups} on the clerks' list, "
                      f"{run.applied.sessions_written} lists opened or changed, "
                      f"{run.applied.sessions_closed} closed", highlight=False)


@app.command("follow-ups")
def follow_ups() -> None:
    """Patients a repair could not move: each keeps the booking until a clerk agrees another
    time with them."""
    engine = open_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            rows = [(r.id, r.appointment_id, r.request_id, r.reason, r.disruption_ids)
                    for r in open_follow_ups(session)]
    finally:
        engine.dispose()
    table = Table(title=f"repair follow-ups ({len(rows)})", title_justify="left")
    for column in ("id", "appt", "request", "reason", "disruptions"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    Console().print(table)


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


def _print_sources(console: Console, demand: PlannedDemand) -> None:
    history = demand.history
    console.print(
        f"demand: {demand.model} forecast on {history.imported_weeks} imported and "
        f"{history.own_weeks} own weeks (to the week of {demand.last_history_week}), "
        f"plus {len(history.waiting):,} appointable requests waiting"
        + (f" ({history.waiting_without_area} without a demand area left out)"
           if history.waiting_without_area else ""), highlight=False)


def _print_summary(console: Console, built: list[WeekBuilt]) -> None:
    """One row a week, narrow enough for an 80-column terminal."""
    table = Table(title="diary build", title_justify="left")
    for column in ("week", "lists", "eve/wkd", "unmet", "km", "gap", "s", "slots +/−",
                   "kept"):
        table.add_column(column, justify="left" if column == "week" else "right")
    for week in built:
        m, r = week.plan.metrics, week.report
        table.add_row(f"{week.week_start:%d %b}", f"{m.room_sessions:,}",
                      str(m.offpeak_sessions), f"{m.unmet_exams:,}", f"{m.mean_travel_km:.1f}",
                      "-" if week.plan.gap is None else f"{week.plan.gap:.1%}",
                      f"{week.plan.seconds:.0f}",
                      f"{r.slots_created:,}/{r.slots_withdrawn:,}", str(len(r.conflicts)))
    console.print(table)
    console.print("lists: room-sessions; eve/wkd: evening and weekend lists; unmet: exams; km: "
                  "mean travel; slots +/−: created/withdrawn; kept: sessions kept for bookings",
                  highlight=False)
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


def _availability(path: Path | None, network) -> tuple[StaffAvailability, ...]:
    """The rota export given, checked by row and field, or the reference network's."""
    try:
        if path is None:
            return load_reference_staff_availability(network)
        return load_staff_availability(path, network)
    except DataFileError as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"--staff-availability: {path}: {error.strerror or error}")


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description:<30}"), BarColumn(bar_width=20),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=console)


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _disruption_body(first_day, last_day, room, site, staff_short, period, extra_list,
                     reason) -> DisruptionCreate:
    """The disruption the options describe; exits 2 naming the option when they do not."""
    if first_day is None:
        _fail("--from: the first day disrupted is needed (or give --disruption ID)")
    fields: dict = {"first_day": _parse_date(first_day, "--from"), "reason": reason,
                    "last_day": _parse_date(last_day, "--to") if last_day else None}
    if site and staff_short:
        role, _, people = staff_short.partition(":")
        try:
            fields |= {"kind": DisruptionKind.STAFF_SHORT, "site_id": site,
                       "role": StaffRole(role), "people": int(people)}
        except ValueError:
            _fail(f"--staff-short: '{staff_short}' is not ROLE:N (roles: "
                  f"{', '.join(r.value for r in StaffRole)})")
    elif site:
        fields |= {"kind": DisruptionKind.SITE_CLOSED, "site_id": site}
    elif room and extra_list:
        fields |= {"kind": DisruptionKind.EXTRA_LIST, "room_id": room, "period": period,
                   "template_id": extra_list}
    elif room and period:
        fields |= {"kind": DisruptionKind.SESSION_CANCELLED, "room_id": room,
                   "period": period}
    elif room:
        fields |= {"kind": DisruptionKind.ROOM_DOWN, "room_id": room}
    else:
        _fail("--room or --site: say what is disrupted")
    try:
        return DisruptionCreate(**fields)
    except ValidationError as error:
        problem = error.errors()[0]
        _fail(f"{problem['loc'][-1]}: {problem['msg']}")


def _recorded(session, ids: list[int]) -> list:
    records = {record.id: record for record in list_disruptions(session, active_only=True)}
    missing = [i for i in ids if i not in records]
    if missing:
        _fail(f"--disruption: no active disruption {missing[0]}")
    return [records[i] for i in ids]


def _print_repair(console: Console, result) -> None:
    """Who moves where, then who cannot be placed: before anything changes."""
    table = Table(title=f"moves ({len(result.moves)})", title_justify="left")
    for column in ("appt", "priority", "from", "to", "days", "km"):
        table.add_column(column, justify="right" if column in ("appt", "days", "km")
                         else "left")
    for move in result.moves:
        table.add_row(str(move.appointment_id), move.priority.value,
                      move.source.describe(), move.target.describe(),
                      f"{move.delay_days:+d}",
                      "-" if move.extra_km is None else f"{move.extra_km:+.0f}")
    console.print(table)
    if result.unplaced:
        unplaced = Table(title=f"to the clerks' list ({len(result.unplaced)})",
                         title_justify="left")
        unplaced.add_column("appt", justify="right")
        unplaced.add_column("from")
        unplaced.add_column("reason")
        for patient in result.unplaced:
            unplaced.add_row(str(patient.appointment_id), patient.source.describe(),
                             patient.reason)
        console.print(unplaced)
    figures = result.figures()
    console.print(f"{figures['forced_moves']} forced, {figures['excess_moves']} excess moves; "
                  f"{figures['changed_sessions']} lists changed; {figures['seconds']:.1f} s",
                  highlight=False)


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.echo(f"{option}: '{value}' is not a date as YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None

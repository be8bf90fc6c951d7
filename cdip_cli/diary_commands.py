"""`cdip diary ...`: build the network's diaries for coming weeks and show a site's day.

Until the database layer stores sessions, `build` can save the diary to a JSON file (`--out`)
and `show` reads it back (`--plan`). Demand comes from the seeded stand-in demand model."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from domain.network import load_reference_network
from domain.session_templates import session_templates
from domain.staff_availability import load_reference_staff_availability
from optimiser import DiaryInputError, DiaryProblem, RoomSession, build_diary
from optimiser.demand_model import synthetic_weekly_demand
from optimiser.problem import PERIODS

app = typer.Typer(help="Diaries: which template runs in which room and session.",
                  no_args_is_help=True)


@app.callback()
def diary() -> None:
    """Diaries: which template runs in which room and session."""


@app.command("build")
def build(
    week: Annotated[str, typer.Option(help="Monday of the first week, YYYY-MM-DD.")],
    weeks: Annotated[int, typer.Option(help="Number of consecutive weeks.")] = 1,
    time_limit: Annotated[float, typer.Option(help="Seconds per week for the optimiser.")] = 30.0,
    seed: Annotated[int, typer.Option(help="Seed of the stand-in demand model.")] = 0,
    travel_limit_km: Annotated[float, typer.Option(help="Furthest a patient is sent.")] = 50.0,
    out: Annotated[Path | None, typer.Option(help="Write the diary as JSON here.")] = None,
) -> None:
    """Build each week's diary (each week starting from the last) and print a summary."""
    start = _parse_date(week, "--week")
    network = load_reference_network()
    templates = session_templates()
    availability = load_reference_staff_availability(network)
    last: tuple[RoomSession, ...] = ()
    saved = []
    table = Table(title="diary build")
    for column in ("week", "room-sessions", "off-peak", "unmet exams", "mean km", "gap",
                   "seconds", "stage"):
        table.add_column(column)
    for number in range(weeks):
        monday = start + timedelta(weeks=number)
        problem = DiaryProblem(network, templates, monday,
                               synthetic_weekly_demand(network, templates, monday, seed + number),
                               availability, travel_limit_km, last)
        try:
            plan = build_diary(problem, time_limit_s=time_limit, seed=seed)
        except DiaryInputError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(2) from None
        m = plan.metrics
        table.add_row(str(monday), str(m.room_sessions), str(m.offpeak_sessions),
                      str(m.unmet_exams), f"{m.mean_travel_km:.1f}",
                      "-" if plan.gap is None else f"{plan.gap:.1%}", f"{plan.seconds:.1f}",
                      plan.method)
        for diagnosis in plan.diagnoses:
            typer.echo(f"note: {diagnosis.family or ''} {diagnosis.area_id or ''} "
                       f"{diagnosis.count or ''} {diagnosis.reason}".replace("  ", " "), err=True)
        last = plan.sessions
        saved.append({"week_start": str(monday), "sessions": [_session_json(s)
                                                              for s in plan.sessions]})
    Console().print(table)
    if out is not None:
        out.write_text(json.dumps({"weeks": saved}))
        typer.echo(f"diary written to {out}")


@app.command("show")
def show(
    site: Annotated[str, typer.Option(help="Site id, e.g. UHB-QE.")],
    day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD.")],
    plan: Annotated[Path, typer.Option(help="A diary written by `cdip diary build --out`.")],
) -> None:
    """A readable day view: one line per room, its sessions in order."""
    wanted = _parse_date(day, "--date")
    network = load_reference_network()
    if site not in network.site_by_id:
        typer.echo(f"--site: no site '{site}' in the network", err=True)
        raise typer.Exit(2)
    try:
        weeks = json.loads(plan.read_text())["weeks"]
    except (OSError, ValueError, KeyError) as error:
        typer.echo(f"--plan: cannot read {plan} ({error})", err=True)
        raise typer.Exit(2) from None
    sessions = [s for w in weeks for s in w["sessions"]
                if s["site_id"] == site and s["date"] == str(wanted)]
    templates = session_templates()
    table = Table(title=f"{network.site_by_id[site].name}, {wanted:%A %d %B %Y}")
    table.add_column("room")
    for period in PERIODS:
        table.add_column(f"{period.value} {period.start:%H:%M}-{period.end:%H:%M}")
    for room in network.rooms_at(site):
        by_period = {s["period"]: s["template_id"] for s in sessions
                     if s["room_id"] == room.room_id}
        table.add_row(room.room_id, *[_template_label(templates, by_period.get(p.value))
                                      for p in PERIODS])
    Console().print(table)


def _template_label(templates, template_id: str | None) -> str:
    if template_id is None:
        return "closed"
    template = templates.get(template_id)
    return template.name if template else template_id


def _session_json(session: RoomSession) -> dict:
    return {"room_id": session.room_id, "site_id": session.site_id, "date": str(session.date),
            "period": session.period.value, "template_id": session.template_id}


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.echo(f"{option}: '{value}' is not a date as YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None

"""What the manager's pages show of what-if runs, as plain records (pages never see the
table): the runs with their progress, one run's network figures, and starting a run from a
form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from booking_api.audit.services import Actor
from booking_api.core.db import Database
from booking_api.simulation import services
from booking_api.simulation.models import SimulationRun, SimulationRunCreate
from domain.network import load_reference_network

HEADLINE = ("share_6_plus_weeks", "share_13_plus_weeks", "waiting_list", "wait_p50_days",
            "wait_p90_days", "utilisation", "dna_rate", "freed_slot_reuse_rate",
            "fill_rate_by_offers", "travel_mean_km", "trust_spread_6_plus_range")


@dataclass(frozen=True)
class RunLine:
    run_id: int
    name: str
    state: str
    progress_done: int
    progress_total: int
    weeks: int
    replications: int
    created_by: str
    created_at: datetime
    error: str | None


@dataclass(frozen=True)
class FigureLine:
    measure: str
    group: str
    baseline: tuple[float | None, float | None, float | None]
    scenario: tuple[float | None, float | None, float | None]
    difference: tuple[float | None, float | None, float | None]


@dataclass(frozen=True)
class RunView:
    run: RunLine
    scenario_yaml: str
    network: tuple[FigureLine, ...]
    by_trust: tuple[FigureLine, ...]


def run_lines(db: Database) -> list[RunLine]:
    with db.reading() as session:
        return [_line(run) for run in services.list_runs(session)]


def run_view(db: Database, run_id: int) -> RunView:
    """Raises NotFound for a run that does not exist."""
    with db.reading() as session:
        run = services.get_run(session, run_id)
        rows = [_figure(row) for row in run.figures or []]
        return RunView(_line(run), run.scenario_yaml,
                       tuple(r for r in rows if r.group == "network" and r.measure in HEADLINE),
                       tuple(r for r in rows if r.measure == "share_6_plus_weeks"
                             and r.group.startswith("trust:")))


def compare_runs(db: Database, left: int, right: int) -> list[dict[str, Any]]:
    """The network figures of two runs' scenario arms side by side (NotFound for either
    missing): measure, left_mean/lo/hi, right_mean/lo/hi."""
    with db.reading() as session:
        runs = [services.get_run(session, left), services.get_run(session, right)]
        rows: dict[str, dict[str, Any]] = {}
        for side, run in zip(("left", "right"), runs, strict=True):
            for row in run.figures or []:
                if row["group"] == "network":
                    entry = rows.setdefault(row["measure"], {"measure": row["measure"]})
                    entry.update({f"{side}_{k}": row[f"scenario_{k}"]
                                  for k in ("mean", "lo", "hi")})
        return list(rows.values())


def start_from_form(db: Database, actor: Actor, scenario_yaml: str, weeks: int,
                    replications: int, now: datetime, today: date) -> int:
    """The new run's id; BookingError naming the field for a bad scenario or plan."""
    body = SimulationRunCreate(scenario_yaml=scenario_yaml, weeks=weeks,
                               replications=replications,
                               warmup_weeks=min(8, max(weeks // 4, 1)))
    with db.transaction() as session:
        run = services.start_run(session, actor, body, load_reference_network(),
                                 today - timedelta(days=today.weekday()), now)
        return int(run.id)


def _line(run: SimulationRun) -> RunLine:
    return RunLine(int(run.id), run.name, run.state.value, run.progress_done,
                   run.progress_total, run.weeks, run.replications, run.created_by,
                   run.created_at, run.error)


def _figure(row: dict[str, Any]) -> FigureLine:
    def arm(name: str):
        return (row.get(f"{name}_mean"), row.get(f"{name}_lo"), row.get(f"{name}_hi"))

    return FigureLine(row["measure"], row["group"], arm("baseline"), arm("scenario"),
                      arm("difference"))

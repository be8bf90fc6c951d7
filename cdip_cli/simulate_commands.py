"""`cdip simulate SCENARIO.yaml`: replications of a what-if scenario and of its baseline, in
parallel on a dask cluster (a local one, or `--scheduler ADDR`), with a progress bar; writes
CSV, PNG plots and an HTML report, and prints the network's headline figures."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from booking_api.core.config import get_settings
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.diary.demand import DemandSourceError
from booking_api.simulation.start_state import StartStateError, read_start_state
from domain.network import load_reference_network
from domain.session_templates import session_templates
from simulations.whatif.experiment import RunPlan, run_experiment
from simulations.whatif.report import HEADLINE, write_report
from simulations.whatif.scenario import ScenarioError, check_against, parse_scenario
from simulations.whatif.start_state import StartState, reference_start_state
from simulations.whatif.summary import compare


def simulate(
    scenario_file: Annotated[Path, typer.Argument(help="The scenario (YAML).")],
    weeks: Annotated[int, typer.Option(min=1, max=520, help="Weeks simulated.")] = 52,
    replications: Annotated[int, typer.Option(min=1, max=1000, help="Per arm.")] = 10,
    warmup: Annotated[int, typer.Option(min=0, help="Weeks not counted.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the replications.")] = 0,
    scheduler: Annotated[str | None, typer.Option(
        help="A dask scheduler address (default: a local cluster).")] = None,
    workers: Annotated[int, typer.Option(min=0, max=64, help="Local cluster worker "
                                                             "processes; 0 runs in this "
                                                             "process.")] = 2,
    out: Annotated[Path | None, typer.Option(help="Folder for the report.")] = None,
    reference: Annotated[bool, typer.Option(
        help="Start from the reference network with stand-in demand, not the database."
    )] = False,
) -> None:
    """Simulate SCENARIO against its baseline and write the report."""
    console = Console()
    try:
        text = scenario_file.read_text(encoding="utf-8")
    except OSError as error:
        _fail(f"SCENARIO: cannot read {scenario_file}: {error.strerror}")
    try:
        scenario = parse_scenario(text)
        plan = RunPlan(weeks=weeks, replications=replications, warmup_weeks=warmup, seed=seed)
        with console.status("reading the start state"):
            start = _start(reference)
        check_against(scenario, start.network, start.monday)
    except ScenarioError as error:
        _fail("the scenario is refused:\n  " + "\n  ".join(error.problems))
    except (ValueError, StartStateError, DemandSourceError) as error:
        _fail(str(error))
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("building diaries", total=None)

        def tell(done: int, total: int) -> None:
            progress.update(task, description="replications", completed=done, total=total)

        experiment = run_experiment(start, scenario, plan, scheduler=scheduler,
                                    workers=workers, progress=tell)
    folder = out or Path(f"simulation-{datetime.now():%Y%m%d-%H%M%S}")
    paths = write_report(experiment, folder)
    _headline(console, experiment)
    console.print(f"report: {paths[-1]} (CSV and PNG beside it)")


def _start(reference: bool) -> StartState:
    network, templates = load_reference_network(), session_templates()
    settings = get_settings()
    today = datetime.now(settings.zone).date()
    if reference:
        return reference_start_state(network, templates,
                                     today - timedelta(days=today.weekday()))
    engine = open_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            return read_start_state(session, network, templates, settings.zone, today)
    finally:
        engine.dispose()


def _headline(console: Console, experiment) -> None:
    figures = compare(experiment.baseline, experiment.changed,
                      experiment.baseline_inputs.world)
    rows = figures[figures.measure.isin(HEADLINE) & (figures.group == "network")]
    table = Table(title=f"{experiment.scenario.name}: network, mean [95 % CI]")
    for column in ("figure", "baseline", "scenario", "difference"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in rows.to_dict("records"):
        table.add_row(row["measure"], *(_interval(row, arm) for arm in
                                        ("baseline", "scenario", "difference")))
    console.print(table)


def _interval(row: dict, arm: str) -> str:
    mean, lo, hi = row[f"{arm}_mean"], row[f"{arm}_lo"], row[f"{arm}_hi"]
    if mean != mean:
        return "-"
    if lo != lo:
        return f"{mean:.4g}"
    return f"{mean:.4g} [{lo:.4g}, {hi:.4g}]"


def _fail(message: str) -> NoReturn:
    typer.echo(f"cdip simulate: {message}", err=True)
    raise typer.Exit(2)

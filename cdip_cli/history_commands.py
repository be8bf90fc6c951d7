"""`cdip history ...`: generate a synthetic history of the network, and check a history folder
(ours or a trust's export) against docs/history-schema.md."""

from __future__ import annotations

import time
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from domain.data_files import DataFileError
from domain.exams import CATALOGUE_DIR, load_exam_catalogue
from domain.history import History, HistoryError, read_history
from domain.network import REFERENCE_NETWORK_DIR, load_network
from simulations.synthetic_history import (
    DEFAULT_START,
    HistorySettings,
    HistorySettingsError,
    generate_history,
    write_history,
)

app = typer.Typer(help="Histories of requests and appointments: synthetic or exported.",
                  no_args_is_help=True)

_STAGES = ("demand", "patients", "appointments", "outcomes", "write patients.csv",
           "write requests.csv", "write appointments.csv", "write truth/dna_probability.csv",
           "write truth/expected_demand.csv")


@app.callback()
def history() -> None:
    """Histories of requests and appointments: synthetic or exported."""


@app.command("generate")
def generate(
    weeks: Annotated[int, typer.Option(help="Length of the history in weeks.", min=1)],
    out: Annotated[Path, typer.Option(help="Folder to write (created; must be empty).")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")]
    = 1,
    scale: Annotated[float, typer.Option(
        help="Volume multiplier: 1 is the reference network's ~90,000 requests a week.")] = 1.0,
    start: Annotated[str, typer.Option(help="First day, a Monday, as YYYY-MM-DD.")]
    = DEFAULT_START.isoformat(),
    ending_last_week: Annotated[bool, typer.Option(
        help="Start `weeks` weeks before this week's Monday instead, so the history ends with "
             "last week (what a service planning the coming weeks has).")] = False,
    network_dir: Annotated[Path, typer.Option(
        "--network", help="Network folder (default: the reference network).")]
    = REFERENCE_NETWORK_DIR,
    catalogue: Annotated[Path, typer.Option(help="Exam catalogue CSV.")]
    = CATALOGUE_DIR / "exams.csv",
) -> None:
    """Write a synthetic history (patients, requests, appointments) and its truth/ folder."""
    console = Console(stderr=True)
    first = _monday(start)
    if ending_last_week:
        today = date.today()
        first = today - timedelta(days=today.weekday(), weeks=weeks)
    settings = HistorySettings(weeks=weeks, seed=seed, scale=scale, start=first)
    if out.exists() and any(out.iterdir()):
        _fail(console, f"{out} is not empty; choose a new folder")
    began = time.perf_counter()
    try:
        network, exams = load_network(network_dir), list(load_exam_catalogue(catalogue).values())
        timings: dict[str, float] = {}
        with _progress(console) as progress:
            task = progress.add_task("starting", total=len(_STAGES))

            def report(stage: str) -> None:
                timings[stage] = time.perf_counter()
                progress.update(task, description=stage, advance=0 if stage == "demand" else 1)

            generated = generate_history(network, exams, settings, report)
            written = write_history(generated, out, report)
            timings["done"] = time.perf_counter()
            progress.update(task, description="done", completed=len(_STAGES))
    except (HistorySettingsError, DataFileError) as error:
        _fail(console, str(error))
    outcome = generated.appointments.outcome
    console.print(_written_table(written, timings))
    console.print(f"DNA rate {np.mean(outcome == 1):.2%} of appointments; "
                  f"{time.perf_counter() - began:.1f} s; written to {out}")


@app.command("import")
def import_history(
    folder: Annotated[Path, typer.Argument(help="A trust's export in the history schema "
                                           "(docs/history-schema.md): patients.csv, "
                                           "requests.csv, appointments.csv.")],
) -> None:
    """Check an export and keep its weekly demand in the service's database (what `cdip diary
    build` forecasts from). A later import replaces the weeks it covers; a bad file changes
    nothing and exits 2 naming the file, row and column."""
    from booking_api.core.config import get_settings
    from booking_api.core.db import transaction
    from booking_api.database import open_engine
    from booking_api.diary.history import read_weekly_history, store_weekly_history
    from cdip_cli.actors import cli_actor

    console = Console(stderr=True)
    began = time.perf_counter()
    try:
        weekly = read_weekly_history(folder, load_network())
    except DataFileError as error:
        _fail(console, str(error))
    except FileNotFoundError as error:
        _fail(console, f"{folder}: {error.strerror or error}")
    engine = open_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            import_id = store_weekly_history(session, cli_actor(), weekly)
    finally:
        engine.dispose()
    console.print(f"import {import_id}: {weekly.requests:,} requests in whole weeks "
                  f"{weekly.first_week} to {weekly.last_week} "
                  f"({len(weekly.counts):,} weekly counts; {weekly.dropped_requests:,} in "
                  f"part-weeks left out); {time.perf_counter() - began:.1f} s", highlight=False)


@app.command("check")
def check(
    folder: Annotated[Path, typer.Argument(help="History folder to read and validate.")],
    reference: Annotated[bool, typer.Option(
        help="Also check exam codes and sites against the shipped catalogue and network.")]
    = True,
) -> None:
    """Validate every file of a history; exits 1 naming the file, row and column of the first
    problem."""
    console = Console()
    exam_codes = site_ids = None
    if reference:
        exam_codes = set(load_exam_catalogue())
        site_ids = {site.site_id for site in load_network().sites}
    try:
        loaded = read_history(folder, exam_codes=exam_codes, site_ids=site_ids)
    except HistoryError as error:
        console.print(f"[bold red]Invalid history:[/bold red] {error}", highlight=False)
        raise typer.Exit(code=1) from None
    console.print(_summary_table(loaded))
    console.print("[bold green]OK[/bold green]")


def _monday(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a date as YYYY-MM-DD",
                                 param_hint="--start") from None
    if day.weekday() != 0:
        raise typer.BadParameter(f"{day} is a {day.strftime('%A')}; weeks start on Monday",
                                 param_hint="--start")
    return day


def _fail(console: Console, message: str) -> None:
    console.print(f"[bold red]Error:[/bold red] {message}", highlight=False)
    raise typer.Exit(code=2)


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description:<34}"), BarColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def _written_table(written: dict[str, int], timings: dict[str, float]) -> Table:
    """Rows per file, and seconds per stage (each stage runs until the next one starts)."""
    stages = list(timings)
    seconds = {stage: timings[after] - timings[stage] for stage, after in pairwise(stages)}
    table = Table(title="Stages")
    table.add_column("stage")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    for stage, took in seconds.items():
        rows = written.get(stage.removeprefix("write "))
        table.add_row(stage, "" if rows is None else f"{rows:,}", f"{took:.1f}")
    return table


def _summary_table(loaded: History) -> Table:
    table = Table(title="History")
    table.add_column("what")
    table.add_column("value", justify="right")
    requests, appointments = loaded.requests, loaded.appointments
    table.add_row("patients", f"{len(loaded.patients):,}")
    table.add_row("requests", f"{len(requests):,}")
    if len(requests):
        table.add_row("received", f"{requests.received_date.min():%Y-%m-%d} to "
                                  f"{requests.received_date.max():%Y-%m-%d}")
    table.add_row("appointments", f"{len(appointments):,}")
    if len(appointments):
        table.add_row("DNA rate", f"{(appointments.outcome == 'dna').mean():.2%}")
    table.add_row("truth", "yes" if loaded.truth is not None else "no")
    return table

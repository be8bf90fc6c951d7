"""`cdip report ...`: the month's figures for managers and the two national returns (DM01,
DID), computed by the `reporting` engine from the service database (its request events,
appointments and diaries: `booking_api.reports.service_frames`), or from a history folder with
`--history` (docs/reports.md). Files are written as CSV; a summary, the warnings and every
record left out (with its reason) are shown."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from booking_api.core.config import get_settings
from booking_api.core.db import DatabaseUrlError
from booking_api.database import open_engine
from booking_api.reports.service_frames import service_inputs
from domain.data_files import DataFileError
from domain.history import read_history
from domain.network import REFERENCE_NETWORK_DIR, load_network
from reporting.did import did_return
from reporting.dm01 import dm01_return
from reporting.errors import ReportingError
from reporting.figures import month_figures, write_figures
from reporting.from_history import inputs_from_history
from reporting.london import Month
from reporting.record import Record, prepare

app = typer.Typer(help="Figures for managers and the national returns (DM01, DID).",
                  no_args_is_help=True)
_console = Console()

MonthOption = Annotated[str, typer.Option("--month", help="Reporting month as YYYY-MM (UK).")]
HistoryOption = Annotated[Path | None, typer.Option(
    "--history", help="History folder (docs/history-schema.md), optionally with "
                      "patient_identifiers.csv and request_details.csv (docs/reports.md). "
                      "Without it, the service database (CDIP_DATABASE_URL or "
                      "--database-url) is read.")]
DatabaseOption = Annotated[str | None, typer.Option(
    "--database-url", help="Service database to read (default: the settings').")]
NetworkOption = Annotated[Path, typer.Option("--network", help="Network folder.")]
ResetOption = Annotated[bool, typer.Option(
    "--reset-clock/--no-reset-clock",
    help="Restart the waiting-time clock at a patient cancellation or DNA (DM01 guidance).")]


@app.callback()
def report() -> None:
    """Figures for managers and the national returns (DM01, DID)."""


@app.command("dm01")
def dm01(month: MonthOption, history: HistoryOption = None,
         out: Annotated[Path | None, typer.Option(help="CSV to write (default "
                                                        "dm01-YYYY-MM.csv).")] = None,
         network: NetworkOption = REFERENCE_NETWORK_DIR, reset_clock: ResetOption = True,
         database_url: DatabaseOption = None) -> None:
    """The DM01 return: waiting list bands and activity per provider and test."""
    period = _month(month)
    returned = dm01_return(_record(history, network, database_url), period,
                           reset_clock=reset_clock)
    path = out or Path(f"dm01-{period.label}.csv")
    returned.rows.to_csv(path, index=False)
    _console.print(f"DM01 {period.label}: {len(returned.rows)} rows written to {path}")
    _print_counts("Not counted by DM01, by reason", returned.counts_left_out)
    _print_warnings(returned.warnings)


@app.command("did")
def did(month: MonthOption, history: HistoryOption = None,
        out: Annotated[Path | None, typer.Option(help="CSV to write (default "
                                                       "did-YYYY-MM.csv).")] = None,
        exceptions: Annotated[Path | None, typer.Option(
            help="CSV of examinations that cannot be reported, with reasons (default: "
                 "beside --out, ending -exceptions.csv).")] = None,
        network: NetworkOption = REFERENCE_NETWORK_DIR,
        database_url: DatabaseOption = None) -> None:
    """The Diagnostic Imaging Dataset: one row per examination; the rest listed with reasons."""
    period = _month(month)
    returned = did_return(_record(history, network, database_url), period)
    path = out or Path(f"did-{period.label}.csv")
    left_out = exceptions or path.with_name(f"{path.stem}-exceptions.csv")
    returned.rows.to_csv(path, index=False)
    returned.exceptions.to_csv(left_out, index=False)
    _console.print(f"DID {period.label}: {len(returned.rows)} examinations written to {path}; "
                   f"{len(returned.exceptions)} cannot be reported, listed in {left_out}")
    reasons = returned.exceptions.reasons.str.split("; ").explode().value_counts()
    _print_counts("Examinations not reported, by reason (one may have several)",
                  {str(k): int(v) for k, v in reasons.items()})
    _print_warnings(returned.warnings)


@app.command("figures")
def figures(month: MonthOption, history: HistoryOption = None,
            out: Annotated[Path, typer.Option(help="Folder for the CSV tables.")] = Path("figures"),
            network: NetworkOption = REFERENCE_NETWORK_DIR, reset_clock: ResetOption = True,
            counting: Annotated[str, typer.Option(
                help="Turnaround counting: 'first' (first entry to first entry after) or "
                     "'latest' (each end from the latest start before it).")] = "first",
            database_url: DatabaseOption = None) -> None:
    """The month's figures: turnaround, waiting list, utilisation, DNA and cancellations,
    variation between trusts, demand against capacity."""
    period = _month(month)
    try:
        computed = month_figures(_record(history, network, database_url), period,
                                 counting=counting, reset_clock=reset_clock)
    except ValueError as error:
        _fail(str(error))
    written = write_figures(computed, out)
    table = Table(title=f"Figures {period.label}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, frame in computed.tables().items():
        table.add_row(name, f"{len(frame):,}")
    _console.print(table)
    _console.print(f"{len(written)} files written to {out}")


def _month(text: str) -> Month:
    try:
        return Month.parse(text)
    except ReportingError as error:
        raise typer.BadParameter(str(error), param_hint="--month") from None


def _record(history: Path | None, network: Path, database_url: str | None) -> Record:
    """The prepared record of a history folder when one is named, else of the service."""
    try:
        if history is not None:
            loaded = read_history(history)
            return prepare(inputs_from_history(loaded, load_network(network), folder=history))
        engine = open_engine(database_url or get_settings().database_url)
        try:
            return prepare(service_inputs(engine))
        finally:
            engine.dispose()
    except (ReportingError, DataFileError, DatabaseUrlError) as error:
        _fail(str(error))
    except SQLAlchemyError as error:
        _fail(f"cannot read the service database: {error.__class__.__name__}: "
              f"{str(error).splitlines()[0]}")
    raise AssertionError("unreachable")


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[bold red]Error:[/bold red] {message}", highlight=False)
    raise typer.Exit(code=2)


def _print_counts(title: str, counts: dict[str, int]) -> None:
    if not counts:
        return
    table = Table(title=title)
    table.add_column("reason")
    table.add_column("count", justify="right")
    for reason, count in counts.items():
        table.add_row(reason, f"{count:,}")
    _console.print(table)


def _print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        _console.print(f"[yellow]Warning:[/yellow] {warning}", highlight=False)

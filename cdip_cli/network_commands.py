"""`cdip network ...`: commands about the network description (the folder of CSV files)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from domain.network import REFERENCE_NETWORK_DIR
from domain.network_check import (
    REFERENCE_TOTALS,
    NetworkReport,
    NetworkTotals,
    check_network_folder,
)

app = typer.Typer(help="The imaging network: sites, rooms, staff and demand areas.",
                  no_args_is_help=True)


@app.callback()
def network() -> None:
    """The imaging network: sites, rooms, staff and demand areas."""


@app.command("check")
def check(
    directory: Annotated[Path | None, typer.Option(
        "--dir", help="Network folder to check (icss.csv, trusts.csv, sites.csv, rooms.csv, "
                      "staff_groups.csv, demand_areas.csv). Default: the shipped reference "
                      "network, which must also match the WMIN totals (15 trusts, 6 ICSs, "
                      "47 sites, 14 CDCs, 797 rooms: 290 XR, 371 US, 73 CT, 63 MR). Any other "
                      "folder, such as one trust's own, is checked without those totals.",
    )] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print only a JSON object: trusts, icss, sites, cdcs, rooms, "
                       "rooms_by_modality and problems (a list of messages, empty when OK).",
    )] = False,
    expect_reference: Annotated[bool, typer.Option(
        "--expect-reference", help="Also require the WMIN totals of a folder given with --dir.",
    )] = False,
) -> None:
    """Check a network folder: references between files, unique ids, coordinates inside the
    region, opening hours, room capabilities, staff skills and totals. Exits 0 when it is OK,
    1 with a list of problems naming the file, row, id and field of each."""
    folder = directory or REFERENCE_NETWORK_DIR
    expected = _expected_totals(folder, expect_reference)
    report = check_network_folder(folder, expected)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(folder, report, expected)
    if not report.ok:
        raise typer.Exit(code=1)


def _expected_totals(folder: Path, expect_reference: bool) -> NetworkTotals | None:
    """The reference folder is held to WMIN's totals; any other folder only when asked."""
    is_reference = folder.resolve() == REFERENCE_NETWORK_DIR.resolve()
    return REFERENCE_TOTALS if is_reference or expect_reference else None


def _print_report(folder: Path, report: NetworkReport, expected: NetworkTotals | None) -> None:
    console = Console()
    console.print(f"Network folder: {folder}")
    if report.totals is not None:
        console.print(_totals_table(report.totals, expected))
    if report.ok:
        console.print("[bold green]OK[/bold green]")
        return
    console.print(f"[bold red]{len(report.problems)} problem(s):[/bold red]")
    for problem in report.problems:
        console.print(f"  - {problem}", markup=False, highlight=False)


def _totals_table(totals: NetworkTotals, expected: NetworkTotals | None) -> Table:
    table = Table(title="Network totals")
    table.add_column("what")
    table.add_column("count", justify="right")
    if expected is not None:
        table.add_column("expected (WMIN)", justify="right")
    for label, actual, wanted in _total_rows(totals, expected or totals):
        cells = [label, str(actual)] + ([str(wanted)] if expected is not None else [])
        table.add_row(*cells, style=None if actual == wanted else "red")
    return table


def _total_rows(totals: NetworkTotals, expected: NetworkTotals) -> list[tuple[str, int, int]]:
    rows = [("integrated care systems", totals.icss, expected.icss),
            ("trusts", totals.trusts, expected.trusts),
            ("sites", totals.sites, expected.sites),
            ("of which CDCs", totals.cdcs, expected.cdcs),
            ("rooms", totals.rooms, expected.rooms)]
    rows += [(f"  {code} rooms", count, expected.rooms_by_modality.get(code, 0))
             for code, count in totals.rooms_by_modality.items()]
    return rows

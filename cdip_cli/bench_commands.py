"""`cdip bench ...`: benchmarks that print their figures as a table or as JSON.

A benchmark is a function in `cdip_bench` that returns a dict of figures; its keyword parameters
(typed, with defaults) become the command's options, and every command gets `--json`. To add
one, add a line to BENCHMARKS: command name -> "module:function". A benchmark's module is
imported only when its command is asked for: importing them all made every `cdip` command,
`make demo`'s steps included, pay seconds of start-up for code it never runs.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

BENCHMARKS: dict[str, str] = {
    "eligibility": "cdip_bench.eligibility:eligibility_benchmark",
    "booking": "cdip_bench.booking:booking_benchmark",
    "diary": "cdip_bench.diary:diary_benchmark",
    "interop": "cdip_bench.interop:interop_benchmark",
    "plan": "cdip_bench.plan:plan_benchmark",
    "reports": "cdip_bench.reports:reports_benchmark",
    "repair": "cdip_bench.repair:repair_benchmark",
    "messages": "cdip_bench.messages:messages_benchmark",
    "overload": "cdip_bench.overload:overload_benchmark",
    "fuzz": "cdip_bench.fuzz:fuzz_benchmark",
    "reads": "cdip_bench.reads:reads_benchmark",
    "console": "cdip_bench.console:console_benchmark",
    "dashboard": "cdip_bench.dashboard:dashboard_benchmark",
    "backfill": "cdip_bench.backfill:backfill_benchmark",
    "signin": "cdip_bench.sign_in_flood:sign_in_flood_benchmark",
    "scale": "cdip_bench.scale:scale_benchmark",
    "simulate": "cdip_bench.simulate:simulate_benchmark",
    "simulate-calibration": "cdip_bench.simulate_calibration:simulate_calibration_benchmark",
}



class LazyBenchmarks(TyperGroup):
    """The `bench` group: lists BENCHMARKS, and builds a command (importing its module) only
    when it is looked up."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(BENCHMARKS)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | TyperGroup | None:
        target = BENCHMARKS.get(cmd_name)
        if target is None:
            return None
        module, function = target.split(":")
        run = getattr(importlib.import_module(module), function)
        single = typer.Typer(add_completion=False)
        single.command(cmd_name)(benchmark_command(cmd_name, run))
        return typer.main.get_command(single)


app = typer.Typer(help="Measure speed and quality; figures as a table or JSON.",
                  no_args_is_help=True, cls=LazyBenchmarks)


@app.callback()
def bench() -> None:
    """Measure speed and quality; figures as a table or JSON."""


def print_figures(title: str, figures: dict[str, Any], as_json: bool) -> None:
    """JSON on one document for machines, or a two-column table for people."""
    if as_json:
        typer.echo(json.dumps(figures, indent=2, default=str))
        return
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    for name, value in figures.items():
        table.add_row(name, str(value))
    Console().print(table)


def benchmark_command(name: str, run: Callable[..., dict[str, Any]]) -> Callable[..., None]:
    """A typer command that runs `run` with the given options and prints its figures."""

    def command(**options: Any) -> None:
        as_json = options.pop("json_output")
        try:
            figures = run(**options)
        except ValueError as error:  # an option out of range, named by the benchmark
            typer.echo(f"cdip bench {name}: {error}", err=True)
            raise typer.Exit(2) from error
        print_figures(f"bench {name}", figures, as_json)

    json_option = inspect.Parameter(
        "json_output", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
        default=typer.Option(False, "--json", help="Print the figures as JSON."))
    options = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
               for p in inspect.signature(run, eval_str=True).parameters.values()]
    command.__signature__ = inspect.Signature([*options, json_option])  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in [*options, json_option]}
    command.__doc__ = run.__doc__
    return command

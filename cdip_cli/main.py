"""Entry point of the `cdip` command: one module per command group, imported only when that
group (or command) is run. Importing every group made each `cdip` call, `make demo`'s seven
steps included, load the optimiser, scikit-learn and every benchmark first: seconds of CPU
before any work."""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

GROUPS: dict[str, str] = {
    "network": "network_commands:app",
    "db": "db_commands:app",
    "demo": "demo_commands:app",
    "interop": "interop_commands:app",
    "staff": "staff_commands:app",
    "history": "history_commands:app",
    "rules": "rules_commands:app",
    "diary": "diary_commands:app",
    "disruption": "disruption_commands:app",
    "forecast": "forecast_commands:app",
    "dna": "forecast_commands:dna_app",
    "report": "report_commands:app",
    "bench": "bench_commands:app",
    "messages": "messages_commands:app",
    "audit": "audit_commands:app",
    "backfill": "backfill_commands:app",
}
"""Command groups: name -> "module:Typer app" in cdip_cli."""

COMMANDS: dict[str, str] = {
    "seed": "seed_commands:seed",
    "serve": "serve_commands:serve",
    "serve-mllp": "interop_commands:serve_mllp",
    "worker": "worker_commands:worker",
    "simulate": "simulate_commands:simulate",
}
"""Single commands: name -> "module:function" in cdip_cli."""


class LazyCommands(TyperGroup):
    """The root group: lists GROUPS and COMMANDS, importing a module when it is looked up."""

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*GROUPS, *COMMANDS]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> TyperCommand | TyperGroup | None:
        """The command as `add_typer`/`command` on the root would have made it (a group of
        one command stays a group), built from a throwaway parent."""
        parent = typer.Typer(add_completion=False)
        parent.callback()(lambda: None)
        if cmd_name in GROUPS:
            parent.add_typer(_target(GROUPS[cmd_name]), name=cmd_name)
        elif cmd_name in COMMANDS:
            parent.command(cmd_name)(_target(COMMANDS[cmd_name]))
        else:
            return None
        group = typer.main.get_command(parent)
        assert isinstance(group, TyperGroup)
        return group.commands[cmd_name]


def _target(path: str) -> Any:
    """A Typer app or a command function, from "module:attribute" in cdip_cli."""
    module, attribute = path.split(":")
    return getattr(importlib.import_module(f"cdip_cli.{module}"), attribute)


app = typer.Typer(help="Scheduling platform for an NHS imaging network.", no_args_is_help=True,
                  cls=LazyCommands)


@app.callback()
def cdip() -> None:
    """Scheduling platform for an NHS imaging network."""

if __name__ == "__main__":
    app()

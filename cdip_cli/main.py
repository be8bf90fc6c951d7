"""Entry point of the `cdip` command: registers each command group."""

from __future__ import annotations

import typer

app = typer.Typer(help="Scheduling platform for an NHS imaging network.", no_args_is_help=True)


def _register() -> None:
    # Each group is its own module; add one line here per group.
    from cdip_cli import db_commands, network_commands, seed_commands, serve_commands

    app.add_typer(network_commands.app, name="network")
    app.add_typer(db_commands.app, name="db")
    app.command("seed")(seed_commands.seed)
    app.command("serve")(serve_commands.serve)
    from cdip_cli import bench_commands, rules_commands

    app.add_typer(rules_commands.app, name="rules")
    app.add_typer(bench_commands.app, name="bench")
    from cdip_cli import forecast_commands

    app.add_typer(forecast_commands.app, name="forecast")
    app.add_typer(forecast_commands.dna_app, name="dna")
    from cdip_cli import history_commands

    app.add_typer(history_commands.app, name="history")
    from cdip_cli import diary_commands

    app.add_typer(diary_commands.app, name="diary")
    from cdip_cli import staff_commands

    app.add_typer(staff_commands.app, name="staff")
    from cdip_cli import demo_commands

    app.add_typer(demo_commands.app, name="demo")


_register()

if __name__ == "__main__":
    app()

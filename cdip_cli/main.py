"""Entry point of the `cdip` command: registers each command group (one module per group)."""

from __future__ import annotations

import typer

from cdip_cli import (
    audit_commands,
    backfill_commands,
    bench_commands,
    db_commands,
    demo_commands,
    diary_commands,
    disruption_commands,
    forecast_commands,
    history_commands,
    interop_commands,
    messages_commands,
    network_commands,
    report_commands,
    rules_commands,
    seed_commands,
    serve_commands,
    simulate_commands,
    staff_commands,
    worker_commands,
)

app = typer.Typer(help="Scheduling platform for an NHS imaging network.", no_args_is_help=True)

app.add_typer(network_commands.app, name="network")
app.add_typer(db_commands.app, name="db")
app.command("seed")(seed_commands.seed)
app.add_typer(demo_commands.app, name="demo")
app.command("serve")(serve_commands.serve)
app.command("serve-mllp")(interop_commands.serve_mllp)
app.add_typer(interop_commands.app, name="interop")
app.add_typer(staff_commands.app, name="staff")
app.add_typer(history_commands.app, name="history")
app.add_typer(rules_commands.app, name="rules")
app.add_typer(diary_commands.app, name="diary")
app.add_typer(disruption_commands.app, name="disruption")
app.add_typer(forecast_commands.app, name="forecast")
app.add_typer(forecast_commands.dna_app, name="dna")
app.add_typer(report_commands.app, name="report")
app.add_typer(bench_commands.app, name="bench")
app.command("worker")(worker_commands.worker)
app.command("simulate")(simulate_commands.simulate)
app.add_typer(messages_commands.app, name="messages")
app.add_typer(audit_commands.app, name="audit")
app.add_typer(backfill_commands.app, name="backfill")

if __name__ == "__main__":
    app()

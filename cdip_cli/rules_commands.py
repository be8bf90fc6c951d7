"""`cdip rules ...`: validate rule files and show the shipped rule sets."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from slot_rules.loading import load_rule_file, shipped_appointability, shipped_slot_eligibility
from slot_rules.yaml_source import RuleFileError

app = typer.Typer(help="Appointability and slot-eligibility rules.", no_args_is_help=True)


@app.command("check")
def check(files: list[Path] = typer.Argument(..., help="Rule files (YAML) to validate.")) -> None:
    """Validate rule files; exit 1 naming the file, line and rule of the first problem."""
    failed = False
    for path in files:
        try:
            ruleset = load_rule_file(path)
        except RuleFileError as error:
            typer.echo(f"error: {error}", err=True)
            failed = True
            continue
        header = ruleset.header
        typer.echo(f"ok: {path}: {header.kind} rule set '{header.name}' v{header.version}, "
                   f"{len(ruleset.rules)} rules")
    if failed:
        raise typer.Exit(1)


@app.command("list")
def list_rules() -> None:
    """The shipped rules: id, override policy, owner and what each checks."""
    for ruleset in (shipped_appointability(), shipped_slot_eligibility()):
        header = ruleset.header
        table = Table(title=f"{header.name} v{header.version} (from {header.effective_from})")
        for column in ("id", "overridable by", "hard stop", "owner", "description"):
            table.add_column(column)
        for rule in ruleset.rules:
            meta = rule.meta
            roles = ", ".join(sorted(meta.override_roles)) or "no one"
            table.add_row(meta.rule_id, roles, "yes" if meta.hard_stop else "",
                          meta.owner, meta.description)
        Console(width=160).print(table)


@app.command("explain")
def explain(request_id: int = typer.Argument(..., help="The request's id."),
            as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every appointability rule's verdict and reason for a request in the database
    named by CDIP_DATABASE_URL (the read is logged in the patient's access log, as read by
    `cli:<your user name>`)."""
    import getpass

    from booking_api.audit.reads import Reader
    from booking_api.audit.services import Actor
    from booking_api.core.channel import Channel
    from booking_api.core.config import get_settings
    from booking_api.database import open_database
    from booking_api.requests.services import RequestNotFound, explain_request

    db = open_database(get_settings().database_url)
    reader = Reader(Actor(f"cli:{getpass.getuser()}", Channel.SYSTEM), "cdip rules explain")
    try:
        with db.reading() as session:
            explanation = explain_request(session, request_id, reader=reader)
    except RequestNotFound as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(asdict(explanation), indent=2, default=str))
        return
    for line in explanation.lines():
        typer.echo(line)


@app.command("sweep")
def sweep(check_only: bool = typer.Option(
        False, "--check", help="change nothing: list the requests whose stored state is not "
                               "the rules' verdict, and exit 1 if there are any")) -> None:
    """Re-evaluate every open request (run daily): planned tests entering their window become
    appointable, requests whose conditions lapsed go back to waiting."""
    from sqlmodel import Session

    from booking_api.core.config import get_settings
    from booking_api.core.db import read_only, transaction
    from booking_api.database import open_engine
    from booking_api.requests.flows import reevaluate_open_requests
    from booking_api.requests.rules_check import requests_out_of_step

    engine = open_engine(get_settings().database_url)
    try:
        if check_only:
            with Session(read_only(engine)) as session:
                out_of_step = requests_out_of_step(session)
        else:
            with transaction(engine) as session:
                counts = reevaluate_open_requests(session)
    finally:
        engine.dispose()
    if not check_only:
        typer.echo(json.dumps(counts))
        return
    typer.echo(json.dumps({"out_of_step": len(out_of_step), "requests": [
        {"request_id": o.request_id, "stored": o.stored.value, "rules_say": o.rules_say.value,
         "why": o.why} for o in out_of_step]}))
    if out_of_step:
        raise typer.Exit(1)

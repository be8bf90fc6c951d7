"""`cdip rules ...`: validate rule files and show the shipped rule sets."""

from __future__ import annotations

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

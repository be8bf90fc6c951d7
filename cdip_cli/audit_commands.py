"""`cdip audit ...`: the audit trails in the database named by CDIP_DATABASE_URL, for
information governance: who read a patient's record (`reads`)."""

from __future__ import annotations

import getpass
import json

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Audit trails: who read a patient's record.", no_args_is_help=True)


@app.command("reads")
def reads(patient: int = typer.Option(..., "--patient", min=1, help="The patient's id."),
          limit: int = typer.Option(100, "--limit", min=1, max=1000,
                                    help="At most this many, newest first."),
          before_id: int | None = typer.Option(None, "--before-id", min=1,
                                               help="Only entries older than this id."),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Who read this patient's record: when, which part, through which route (newest
    first). Looking is itself logged, as read by `cli:<your user name>`."""
    from booking_api.audit.reads import Reader, reads_of_patient, record_read
    from booking_api.audit.services import Actor
    from booking_api.core.channel import Channel
    from booking_api.core.config import get_settings
    from booking_api.database import open_database

    db = open_database(get_settings().database_url)
    reader = Reader(Actor(f"cli:{getpass.getuser()}", Channel.SYSTEM, role="admin"),
                    "cdip audit reads")
    try:
        with db.reading() as session:
            found = reads_of_patient(session, patient, before_id=before_id, limit=limit)
            record_read(session, reader, patient, "access-log")
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps([row.model_dump(mode="json") for row in found], indent=2))
        return
    table = Table(title=f"reads of patient {patient}'s record ({len(found)})")
    for column in ("id", "at", "who", "role", "what", "item", "route"):
        table.add_column(column)
    for row in found:
        table.add_row(str(row.id), row.at.isoformat(timespec="seconds"), row.actor,
                      row.role or "", row.what, row.item_id or "", row.route or "")
    Console(width=160).print(table)

"""`cdip db`: schema migrations of the database named by CDIP_DATABASE_URL."""

from __future__ import annotations

import typer

from booking_api.core import migrate
from booking_api.core.config import get_settings
from booking_api.core.db import database_kind, make_engine

app = typer.Typer(help="Database schema: upgrade to the latest migration, show the current one.",
                  no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Migrate the database to REVISION (default: the latest). Safe to repeat."""
    url = get_settings().database_url
    migrate.upgrade(url, revision)
    typer.echo(f"{database_kind(url)} database at revision {_current(url)}")


@app.command()
def current() -> None:
    """Show the database's revision and the latest one the code knows."""
    url = get_settings().database_url
    typer.echo(f"database: {_current(url) or 'not migrated'}; "
               f"latest: {migrate.head_revision()}")


@app.command()
def revision(message: str = typer.Option(..., "--message", "-m", help="what the change does"),
             empty: bool = typer.Option(False, help="write an empty revision to fill by hand"),
             ) -> None:
    """Write a new migration comparing the models with the (migrated) database."""
    migrate.new_revision(get_settings().database_url, message, autogenerate=not empty)


def _current(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()

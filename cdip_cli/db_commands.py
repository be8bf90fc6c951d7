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


@app.command()
def budget(
    web_nodes: int = typer.Option(2, min=1, help="`cdip serve` processes"),
    workers: int = typer.Option(1, min=0, help="`cdip worker` processes"),
) -> None:
    """The connections N web nodes and M workers may open with these settings (each process's
    pool as `cdip serve` sizes it: CDIP_DB_POOL_SIZE or the worker threads, plus
    CDIP_DB_MAX_OVERFLOW, plus the bookkeeping pool), against the server's max_connections
    (exit 1 if they do not fit)."""
    from booking_api.core.connection_budget import ADMIN_MARGIN
    from booking_api.core.connection_budget import budget as connection_budget
    from booking_api.database import open_database, pool_options

    settings = get_settings()
    database = open_database(settings.database_url, **pool_options(settings))
    try:
        figures = connection_budget(database, web_nodes, workers)
    finally:
        database.dispose()
    typer.echo(f"per process: {figures.per_process} connections at most "
               f"(main pool + bookkeeping pool)")
    typer.echo(f"{web_nodes} web node(s) + {workers} worker(s) + {ADMIN_MARGIN} for admin: "
               f"{figures.total}")
    if figures.pgbouncer:
        typer.echo("behind PgBouncer: PostgreSQL sees PgBouncer's default_pool_size + "
                   f"reserve_pool_size; PgBouncer's max_client_conn must be >= {figures.total}")
        return
    if figures.server_limit is None:
        typer.echo("SQLite: one file, no connection limit")
        return
    typer.echo(f"server allows {figures.server_limit} (max_connections less superuser "
               f"reserved): {'fits' if figures.fits else 'DOES NOT FIT'}")
    if not figures.fits:
        raise typer.Exit(code=1)

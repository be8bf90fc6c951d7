"""Engines and sessions for the two databases we run on.

SQLite (the demo) allows one writer at a time, so every connection runs in WAL mode, waits
for the lock instead of failing (busy_timeout), enforces foreign keys, and starts write
transactions with BEGIN IMMEDIATE: a transaction that reads and then writes would otherwise
fail at once with SQLITE_BUSY when another writer got in between. PostgreSQL goes through
psycopg 3. Nothing outside `booking_api` gets a session.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "cdip_read_only"
"""Execution option: on SQLite, begin with a deferred BEGIN (a reader that never writes and
must not queue behind writers). Use `read_only(engine)`."""


class DatabaseUrlError(ValueError):
    """A database URL we cannot use, naming the setting to fix."""


def normalise_url(url: str) -> URL:
    """Parse a database URL, steering PostgreSQL URLs to the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except Exception as error:
        raise DatabaseUrlError(f"CDIP_DATABASE_URL '{url}' is not a database URL") from error
    if parsed.drivername.split("+")[0] in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUrlError(
            f"CDIP_DATABASE_URL uses '{parsed.get_backend_name()}'; "
            "use sqlite:///path/to/file.sqlite3 or postgresql://user@host/database"
        )
    return parsed


def database_kind(engine_or_url: Engine | str) -> str:
    """'sqlite' or 'postgresql'."""
    if isinstance(engine_or_url, Engine):
        return engine_or_url.dialect.name
    return normalise_url(engine_or_url).get_backend_name()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine configured for how the service uses the database (see module docstring)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (they are handed to templates and JSON)."""
    return sessionmaker(engine, class_=Session, expire_on_commit=False)


def read_only(engine: Engine) -> Engine:
    """The same engine, beginning deferred (non-locking) transactions on SQLite."""
    return engine.execution_options(**{READ_ONLY: True})


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One session in one transaction: committed on success, rolled back on any error."""
    with make_session_factory(engine)() as session, session.begin():
        yield session


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module; `_begin_sqlite_transaction` emits
    # BEGIN itself (SQLAlchemy's documented recipe for Python < 3.12).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    deferred = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

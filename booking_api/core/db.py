"""Engines and sessions for the two databases we run on.

SQLite (the demo) allows one writer at a time, so every connection runs in WAL mode, waits
for the lock instead of failing (busy_timeout), enforces foreign keys, and starts write
transactions with BEGIN IMMEDIATE: a transaction that reads and then writes would otherwise
fail at once with SQLITE_BUSY when another writer got in between. Writers of one process
queue for that lock at a gate of their own first (`_SqliteWriteGate`). PostgreSQL goes through
psycopg 3, with a pool sized for a worker's concurrent requests; a pooled connection is
pinged only when it has sat idle (a busy one was just used, and a ping per checkout would be
one more round trip on every request). Nothing outside `booking_api` gets a session.

Listeners that contexts need on their sessions (audit rows written at commit, idempotency
claims marked with the change) are not registered globally: `with_session_hooks` names them
on an engine, and every session factory made from that engine (`make_session_factory`,
`transaction`) gets them. `booking_api.database` is where the service's engines are wired.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_SIZE = 28
POOL_OVERFLOW = 4
POOL_TIMEOUT_S = 5.0
"""Connections per process when the caller names none: a request holds one at a time, and
the service admits 28 at once by default (`Settings.threads`, which the web app passes in
through `booking_api.database.pool_options`); a few more at a peak for background jobs. A
request that still finds none free waits this long, then fails (503), rather than queueing
for a minute."""
IDLE_PING_S = 10.0
"""A pooled connection idle for longer than this is pinged before use (the server may have
restarted or dropped it meanwhile); a failed ping replaces it."""
BOOKKEEPING_POOL_SIZE = 5
"""Bookkeeping connections per process (and as many again at a peak): each is held for one
short statement, so a few serve a worker's requests, and the server's connection limit
(PostgreSQL's default is 100) is left to the main pools."""
BOOKKEEPING = "cdip_bookkeeping"
"""Execution option marking an engine from `make_bookkeeping_engine` (autocommit)."""
PGBOUNCER_PARAMETER = "pgbouncer"
"""Query parameter of a PostgreSQL URL (`...?pgbouncer=true`) and execution option of its
engine: connections go through PgBouncer in transaction pooling (`behind_pgbouncer`)."""
PGBOUNCER_CONNECT_ARGS = {"prepare_threshold": None}
"""psycopg 3 never prepares statements on a connection PgBouncer may hand to another client."""
READ_ONLY = "cdip_read_only"
"""Execution option: on SQLite, begin with a deferred BEGIN (a reader that never writes and
must not queue behind writers). Use `read_only(engine)`."""


SESSION_HOOKS = "cdip_session_hooks"
"""Execution option: functions that attach listeners to each session factory of an engine."""
CONFLICT_SQLSTATES = frozenset({"23505", "23P01", "40P01", "40001"})
"""Unique and exclusion violations, deadlock and serialization failure: another transaction
took what this one wanted. Answered as a conflict (409), never a server error."""

SessionHook = Callable[[sessionmaker[Session]], None]


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
    """An engine configured for how the service uses the database (see module docstring).
    The pool (`pool_size`, `max_overflow`, `pool_timeout`) is the same on both databases,
    except for an in-memory SQLite database, which lives on one connection. A PostgreSQL URL
    ending `?pgbouncer=true` goes through PgBouncer in transaction pooling
    (`behind_pgbouncer`)."""
    parsed = normalise_url(url)
    in_memory = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "",
                                                                              ":memory:")
    pool = {} if in_memory else {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW,
                                 "pool_timeout": POOL_TIMEOUT_S}
    options = {**pool, **kwargs}
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **options)
    pooled = parsed.query.get(PGBOUNCER_PARAMETER, "").lower() in ("true", "1", "yes")
    parsed = parsed.difference_update_query([PGBOUNCER_PARAMETER])
    if pooled:
        options["connect_args"] = {**options.get("connect_args", {}),
                                   **PGBOUNCER_CONNECT_ARGS}
    engine = _ping_when_idle(create_engine(parsed, **options))
    return engine.execution_options(**{PGBOUNCER_PARAMETER: True}) if pooled else engine


def behind_pgbouncer(engine: Engine) -> bool:
    """Whether the engine's connections go through PgBouncer in transaction pooling: a
    server connection is the client's for one transaction only, so nothing may outlive a
    transaction on it. Hence no prepared statements (psycopg prepares a query run five times
    on a connection, by name; PgBouncer before 1.21 does not carry those names across server
    connections) and no session settings (the bookkeeping engine's `synchronous_commit=off`
    startup option is dropped). Transaction-scoped advisory locks, SELECT ... FOR UPDATE SKIP
    LOCKED and the change stamps' snapshots are all transaction-scoped, so they are safe."""
    return bool(engine.get_execution_options().get(PGBOUNCER_PARAMETER, False))


def make_bookkeeping_engine(engine: Engine) -> Engine:
    """Where bookkeeping whose loss in a database crash is harmless (an idempotency claim, a
    stored response) is written. On PostgreSQL a small pool of its own whose connections run
    in autocommit with `synchronous_commit` off: each bookkeeping statement is one round trip
    (no BEGIN/SET/COMMIT), visible to every other session at once, and durable no later than
    the next ordinary commit, since WAL is flushed in order. On SQLite the engine itself (a
    BEGIN there is local, not a round trip). Dispose of it with the main engine."""
    if engine.dialect.name != "postgresql":
        return engine
    url, extra = engine.url, {}
    if behind_pgbouncer(engine):  # no startup options through PgBouncer: durable commits
        extra = {"connect_args": PGBOUNCER_CONNECT_ARGS}
    else:
        url = url.update_query_dict({"options": " ".join(filter(None, (
            url.query.get("options"), "-c synchronous_commit=off")))})
    bookkeeping = _ping_when_idle(create_engine(
        url, isolation_level="AUTOCOMMIT",
        pool_size=BOOKKEEPING_POOL_SIZE, max_overflow=BOOKKEEPING_POOL_SIZE,
        pool_timeout=engine.pool.timeout() if hasattr(engine.pool, "timeout") else 30,
        **extra))
    return bookkeeping.execution_options(**{BOOKKEEPING: True})


@contextmanager
def bookkeeping_transaction(engine: Engine) -> Iterator[Connection]:
    """Where to write one piece of bookkeeping (see `make_bookkeeping_engine`): on a
    bookkeeping engine a connection in autocommit, meant for one statement; on any other
    engine an ordinary transaction."""
    if engine.get_execution_options().get(BOOKKEEPING, False):
        with engine.connect() as connection:
            yield connection
        return
    with engine.begin() as connection:
        yield connection


def one_statement(engine: Engine) -> Engine:
    """For work that is a single statement (a read, a claim's insert, a mark's update): on
    PostgreSQL in autocommit, since one statement is atomic by itself and BEGIN/COMMIT would
    be two more round trips; on SQLite unchanged (its BEGIN is local, not a round trip)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def with_session_hooks(engine: Engine, *hooks: SessionHook) -> Engine:
    """The same engine (same pool), whose session factories get `hooks` attached."""
    known = engine.get_execution_options().get(SESSION_HOOKS, ())
    return engine.execution_options(**{SESSION_HOOKS: (*known, *hooks)})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (they are handed to templates and JSON),
    with the engine's session hooks attached."""
    factory = sessionmaker(engine, class_=Session, expire_on_commit=False)
    for attach in engine.get_execution_options().get(SESSION_HOOKS, ()):
        attach(factory)
    return factory


@dataclass(frozen=True)
class Database:
    """One database as the service uses it: the main engine and its session factories, the
    bookkeeping engine (`make_bookkeeping_engine`) and the lookup engine for sign-in checks.
    Made once per process by `booking_api.database.open_database`; pages and jobs pass it to
    flows without looking inside."""

    engine: Engine
    bookkeeping: Engine
    lookup: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]

    @property
    def kind(self) -> str:
        return database_kind(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One session in one write transaction: committed if the block ends normally,
        rolled back (releasing SQLite's write lock at once) if it raises."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """One session for reads only (on SQLite it never queues behind a writer)."""
        with self.read_sessions() as session:
            yield session

    def dispose(self) -> None:
        self.bookkeeping.dispose()
        self.engine.dispose()


def read_only(engine: Engine) -> Engine:
    """The same engine, beginning deferred (non-locking) transactions on SQLite."""
    return engine.execution_options(**{READ_ONLY: True})


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One session in one transaction: committed on success, rolled back on any error."""
    with make_session_factory(engine)() as session, session.begin():
        yield session


def _ping_when_idle(engine: Engine) -> Engine:
    event.listen(engine, "checkin", _note_idle_since)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _note_idle_since(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    idle_since = record.info.pop("idle_since", None)
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()
    except Exception as error:  # the pool replaces the connection and tries again
        raise DisconnectionError("an idle pooled connection no longer answers") from error


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _configure_sqlite_connection)
    if not database or database == ":memory:" or database.startswith("file:"):
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine  # one connection, nobody to queue with
    gate = _SqliteWriteGate.of(database)
    event.listen(engine, "begin", gate.begin)
    event.listen(engine, "commit", gate.end)
    event.listen(engine, "rollback", gate.end)
    event.listen(engine, "checkin", gate.checked_in)
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


class _SqliteWriteGate:
    """One queue per database file per process for SQLite's write lock.

    A writer that finds the lock taken is left to SQLite's busy handler, which sleeps 1, 2,
    5 ... up to 100 ms between tries, while a newcomer takes the lock the moment it is free.
    Under a burst of short writes (sign-in attempts, holds) a waiting booking could miss its
    turn again and again, for a second or more. Waiting here instead, a writer is woken as
    soon as the writer before it ends. The gate is let go as the transaction's COMMIT or
    ROLLBACK starts, so the next writer may still wait on SQLite for that one statement.
    Other processes on the same file (`cdip worker`) still meet at SQLite's lock."""

    HELD = "cdip_write_gate_held"
    """Key in a connection's `info` while its transaction holds the gate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @classmethod
    def of(cls, database: str) -> _SqliteWriteGate:
        """The gate of a database file: every engine of the process on it shares one."""
        key = str(Path(database).resolve())
        with _SQLITE_GATES_LOCK:
            return _SQLITE_GATES.setdefault(key, cls())

    def begin(self, connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY, False):
            _begin_sqlite_transaction(connection)
            return
        if not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked (waited for the write gate)")
        connection.info[self.HELD] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._release(connection.info)
            raise

    def end(self, connection: Connection) -> None:
        self._release(connection.info)

    def checked_in(self, _dbapi_connection: Any, record: Any) -> None:
        """A connection returned with its transaction ended outside `end` (the pool's reset
        on return, a connection invalidated mid-transaction) lets the gate go too."""
        self._release(record.info)

    def _release(self, info: dict[Any, Any]) -> None:
        if info.pop(self.HELD, False):
            self._lock.release()


_SQLITE_GATES: dict[str, _SqliteWriteGate] = {}
_SQLITE_GATES_LOCK = threading.Lock()

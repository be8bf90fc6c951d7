"""How many PostgreSQL connections a deployment may open, worked out from the pools the
service's own settings give each process, against the server's limit: so N web nodes and M
workers are sized before they exhaust `max_connections` rather than after.

A process opens at most its main pool (`pool_size + max_overflow`) plus its bookkeeping pool
(`make_bookkeeping_engine`). Behind PgBouncer the server sees PgBouncer's own pool instead,
and the total here must fit PgBouncer's `max_client_conn`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from booking_api.core.db import Database, behind_pgbouncer

ADMIN_MARGIN = 5
"""Connections left for migrations, `psql` and monitoring."""


@dataclass(frozen=True)
class ConnectionBudget:
    per_process: int
    web_nodes: int
    workers: int
    server_limit: int | None
    """max_connections less superuser_reserved_connections (None: not asked)."""
    pgbouncer: bool

    @property
    def total(self) -> int:
        """Connections every node and worker may hold at once, plus the admin margin."""
        return self.per_process * (self.web_nodes + self.workers) + ADMIN_MARGIN

    @property
    def fits(self) -> bool | None:
        """Whether the total fits the server (None when the server was not asked, or when
        PgBouncer stands between: then compare the total with its max_client_conn)."""
        if self.server_limit is None or self.pgbouncer:
            return None
        return self.total <= self.server_limit


def process_connections(database: Database) -> int:
    """The most connections one process of the service opens on `database`."""
    most = _pool_most(database.engine)
    if database.bookkeeping is not database.engine:
        most += _pool_most(database.bookkeeping)
    return most


def server_limit(engine: Engine) -> int:
    """The server's max_connections less the connections kept for superusers."""
    with engine.connect() as connection:
        most = int(connection.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(connection.execute(text("SHOW superuser_reserved_connections"))
                       .scalar_one())
    return most - reserved


def budget(database: Database, web_nodes: int, workers: int,
           ask_server: bool = True) -> ConnectionBudget:
    limit = server_limit(database.engine) if ask_server and database.kind == "postgresql" \
        else None
    return ConnectionBudget(process_connections(database), web_nodes, workers, limit,
                            behind_pgbouncer(database.engine))


def _pool_most(engine: Engine) -> int:
    pool = engine.pool
    size = pool.size() if hasattr(pool, "size") else 1
    return size + max(0, getattr(pool, "_max_overflow", 0))

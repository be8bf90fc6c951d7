"""Alembic environment: migrates the database named by the caller (see
`booking_api.core.migrate`) or, when run by the `alembic` tool, by CDIP_DATABASE_URL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from booking_api.core.config import get_settings
from booking_api.core.db import make_engine
from booking_api.tables import metadata

config = context.config


def run_migrations_offline() -> None:
    context.configure(
        url=config.attributes.get("database_url") or get_settings().database_url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(config.attributes.get("database_url") or get_settings().database_url)
    try:
        with engine.connect() as connection:
            _migrate(connection)
    finally:
        engine.dispose()


def _migrate(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=is_sqlite,
        compare_type=True,
        render_item=_render_item,
    )
    if is_sqlite:
        _without_sqlite_foreign_keys(connection)
    else:
        with context.begin_transaction():
            context.run_migrations()


def _without_sqlite_foreign_keys(connection: Connection) -> None:
    # SQLite rebuilds a table to alter it (batch mode); with foreign keys enforced, dropping the
    # old copy would cascade or fail. SQLite's own advice: switch enforcement off outside the
    # transaction, migrate, then check every key before switching it back on.
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render our column types as plain SQLAlchemy types, so revisions need only `sa` (and
    `postgresql` for JSONB)."""
    if kind != "type":
        return False
    if isinstance(obj, sa.JSON):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    if isinstance(obj, sa.Enum) and not obj.native_enum:
        return f"sa.String(length={obj.length})"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

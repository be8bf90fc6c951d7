"""Column types and naming rules shared by every table. Import this module before defining a
table: it fixes constraint and index names so migrations name them the same on SQLite and
PostgreSQL (SQLite's batch migrations need names to drop or recreate a constraint)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

CODE_LENGTH = 32
"""Room for any enum code (the longest today is 'busy-unavailable')."""

JSONDocument = sa.JSON().with_variant(JSONB(), "postgresql")
"""A JSON value: JSONB on PostgreSQL (indexable), JSON text on SQLite."""


def code_enum(enum: type[StrEnum]) -> sa.Enum:
    """Store an enum by its value (the code used in files and the API), as VARCHAR, with no
    database enum type or CHECK, so adding a code later needs no migration."""
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=CODE_LENGTH,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def utc_now() -> datetime:
    """The current instant, timezone-aware in UTC (what every timestamp column stores), as
    this process's clock reads it (`CLOCK_OFFSET_ENV` moves it, to test a skewed node)."""
    return datetime.now(UTC) + _CLOCK_OFFSET


CLOCK_OFFSET_ENV = "CDIP_CLOCK_OFFSET_SECONDS"
"""Seconds added to this process's clock: how the multi-node tests give one node a clock that
runs fast or slow. Read once at import; refused outside the demo and test environments
(`Settings.check_safe_to_serve`)."""
_CLOCK_OFFSET = timedelta(seconds=float(os.environ.get(CLOCK_OFFSET_ENV) or 0))


def joined_codes(codes: Iterable[object]) -> str:
    """A set of codes as the ';'-joined, sorted text kept in capability-style columns."""
    return ";".join(sorted(str(code) for code in codes))


def split_codes(text: str) -> tuple[str, ...]:
    """Inverse of `joined_codes`."""
    return tuple(code for code in text.split(";") if code)

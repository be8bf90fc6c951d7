"""Change stamps the database itself writes, so a reader (a node's slot index) can ask "what
committed since I last looked?" without trusting any node's clock or the writer's code path.

Every insert or update of a stamped table (slot, appointment) sets `change_seq` in a trigger:

- PostgreSQL: the writing transaction's id (`pg_current_xact_id()`). Ids are handed out as
  transactions first write, not as they commit, so a reader remembers the snapshot it took
  before its last read (`ChangeCursor`): a transaction that was still in flight then, or started
  after, has an id at or above that snapshot's xmax or in its in-flight list, and is read next
  time; everything else was visible to that read. Long transactions (a diary build committing
  a minute after it began) are therefore never missed, however late they commit.
- SQLite: one writer at a time, so `max(change_seq) + 1` of the table is in commit order; the
  cursor is each table's maximum read before the last look.

Rows committed between taking a cursor and reading may be read twice; readers apply the
current state of each row, so reading twice is harmless, missing once is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, or_, text
from sqlalchemy.sql.elements import ColumnClause

STAMPED_TABLES = ("slot", "appointment")
COLUMN = "change_seq"


@dataclass(frozen=True)
class ChangeCursor:
    """What a reader has seen. PostgreSQL: the snapshot taken before its last read (`xmax`
    and the ids in flight then). SQLite: each stamped table's largest stamp then."""

    dialect: str
    xmax: int = 0
    in_flight: frozenset[int] = frozenset()
    seen: dict[str, int] = field(default_factory=dict)

    def unseen(self, column: ColumnClause | ColumnElement, table: str) -> ColumnElement[bool]:
        """Rows of `table` whose stamp says they may have committed after this cursor."""
        if self.dialect == "postgresql":
            later = column >= self.xmax
            return or_(later, column.in_(sorted(self.in_flight))) if self.in_flight else later
        return column > self.seen.get(table, 0)

    def distance(self, other: ChangeCursor) -> int:
        """How far `other` (a later cursor) is ahead: transaction ids (PostgreSQL) or row
        stamps (SQLite) written in between; an upper bound on the commits to catch up."""
        if self.dialect == "postgresql":
            return max(0, other.xmax - self.xmax)
        return sum(max(0, other.seen.get(t, 0) - self.seen.get(t, 0)) for t in other.seen)


def take_cursor(connection: Connection) -> ChangeCursor:
    """A cursor for "now": take it before reading, and read changes after it next time."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return parse_snapshot(connection.execute(text("SELECT pg_current_snapshot()::text"))
                              .scalar_one())
    maxima = ", ".join(f"(SELECT coalesce(max({COLUMN}), 0) FROM {t})" for t in STAMPED_TABLES)
    row = connection.execute(text(f"SELECT {maxima}")).one()
    return ChangeCursor(dialect, seen=dict(zip(STAMPED_TABLES, map(int, row), strict=True)))


def parse_snapshot(snapshot: str) -> ChangeCursor:
    """A cursor from PostgreSQL's snapshot text, 'xmin:xmax:xip,xip,...'."""
    _xmin, xmax, xip = snapshot.split(":")
    return ChangeCursor("postgresql", xmax=int(xmax),
                        in_flight=frozenset(int(x) for x in xip.split(",") if x))


def stamp_triggers(dialect: str, tables: Iterable[str] = STAMPED_TABLES) -> list[str]:
    """DDL that makes the database stamp every insert and update of `tables`."""
    if dialect == "postgresql":
        statements = [
            "CREATE OR REPLACE FUNCTION cdip_stamp_change() RETURNS trigger AS $$ "
            f"BEGIN NEW.{COLUMN} := pg_current_xact_id()::text::bigint; RETURN NEW; END; "
            "$$ LANGUAGE plpgsql"]
        statements += [f"CREATE TRIGGER {table}_change_seq BEFORE INSERT OR UPDATE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION cdip_stamp_change()" for table in tables]
        return statements
    # SQLite cannot change NEW in a BEFORE trigger; an AFTER trigger's own UPDATE does not fire
    # triggers again (recursive_triggers is off), so each row is stamped once per write.
    return [f"CREATE TRIGGER {table}_change_seq_{event.lower()} AFTER {event} ON {table} "
            f"FOR EACH ROW BEGIN UPDATE {table} SET {COLUMN} = "
            f"(SELECT coalesce(max({COLUMN}), 0) + 1 FROM {table}) WHERE id = NEW.id; END"
            for table in tables for event in ("INSERT", "UPDATE")]


def drop_stamp_triggers(dialect: str, tables: Iterable[str] = STAMPED_TABLES) -> list[str]:
    """DDL undoing `stamp_triggers`."""
    if dialect == "postgresql":
        return [*(f"DROP TRIGGER IF EXISTS {t}_change_seq ON {t}" for t in tables),
                "DROP FUNCTION IF EXISTS cdip_stamp_change()"]
    return [f"DROP TRIGGER IF EXISTS {t}_change_seq_{e}" for t in tables
            for e in ("insert", "update")]

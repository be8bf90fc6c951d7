"""Change stamps the database itself writes, so a reader (a node's slot index) can ask "what
committed since I last looked?" without trusting any node's clock or the writer's code path.

Every insert or update of a stamped table (slot, appointment) sets `change_seq` in a trigger:

- PostgreSQL: the writing transaction's id (`pg_current_xact_id()`). Ids are handed out as
  transactions first write, not as they commit, so a reader remembers the snapshot it took
  before its last read (`ChangeCursor`): a transaction that was still in flight then, or started
  after, has an id at or above that snapshot's xmax or in its in-flight list, and is read next
  time; everything else was visible to that read. Long transactions (a diary build committing
  a minute after it began) are therefore never missed, however late they commit.
- SQLite: one writer at a time, so `max(change_seq) + 1` of the table, stamped by an update
  trigger, is in commit order, and so are new rows' ids (rows are never deleted): the cursor is
  each table's largest stamp and id read before the last look. Inserts are not stamped (a
  trigger's second write of every row made a bulk insert of slots about eight times slower).

Rows committed between taking a cursor and reading may be read twice; readers apply the
current state of each row, so reading twice is harmless, missing once is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, Table, or_, text

STAMPED_TABLES = ("slot", "appointment")
COLUMN = "change_seq"


@dataclass(frozen=True)
class ChangeCursor:
    """What a reader has seen. PostgreSQL: the snapshot taken before its last read (`xmax`
    and the ids in flight then). SQLite: each stamped table's largest stamp and id then."""

    dialect: str
    xmax: int = 0
    in_flight: frozenset[int] = frozenset()
    seen: dict[str, int] = field(default_factory=dict)
    """SQLite: "<table>" -> largest stamp, "<table>.id" -> largest id."""

    def unseen(self, table: Table) -> ColumnElement[bool]:
        """Rows of `table` that may have committed after this cursor."""
        stamp = table.c[COLUMN]
        if self.dialect == "postgresql":
            later = stamp >= self.xmax
            return or_(later, stamp.in_(sorted(self.in_flight))) if self.in_flight else later
        return or_(stamp > self.seen.get(table.name, 0),
                   table.c.id > self.seen.get(f"{table.name}.id", 0))


def take_cursor(connection: Connection) -> ChangeCursor:
    """A cursor for "now": take it before reading, and read changes after it next time."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return parse_snapshot(connection.execute(text("SELECT pg_current_snapshot()::text"))
                              .scalar_one())
    # A bare max() of an indexed column is one index probe; wrapped (coalesce) it scans.
    names = [name for t in STAMPED_TABLES for name in (t, f"{t}.id")]
    maxima = ", ".join(f"(SELECT max({column}) FROM {t})" for t in STAMPED_TABLES
                       for column in (COLUMN, "id"))
    row = connection.execute(text(f"SELECT {maxima}")).one()
    return ChangeCursor(dialect, seen={n: int(v or 0) for n, v in zip(names, row, strict=True)})


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
    # triggers again (recursive_triggers is off), so each row is stamped once per write. The
    # row itself exists by then, so max() is never NULL; a bare max() of the indexed column is
    # one index probe (coalesce around it would scan the table for every row written).
    return [f"CREATE TRIGGER {table}_change_seq_update AFTER UPDATE ON {table} "
            f"FOR EACH ROW BEGIN UPDATE {table} SET {COLUMN} = "
            f"(SELECT max({COLUMN}) FROM {table}) + 1 WHERE id = NEW.id; END"
            for table in tables]


def drop_stamp_triggers(dialect: str, tables: Iterable[str] = STAMPED_TABLES) -> list[str]:
    """DDL undoing `stamp_triggers`."""
    if dialect == "postgresql":
        return [*(f"DROP TRIGGER IF EXISTS {t}_change_seq ON {t}" for t in tables),
                "DROP FUNCTION IF EXISTS cdip_stamp_change()"]
    return [f"DROP TRIGGER IF EXISTS {t}_change_seq_{e}" for t in tables
            for e in ("insert", "update")]

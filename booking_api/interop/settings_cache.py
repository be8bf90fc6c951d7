"""Per-process copies of the interop settings every message looks up (the order-code map and
the exam catalogue's codes for orders in, the subscribers for status out), so a message does
not read them again each time, and never uses a copy older than what it can see.

The database stamps them: triggers (`stamp_triggers`) rewrite the one row of
`interop_settings_stamp` in every transaction that changes `SETTINGS_TABLES`, with a value
no other transaction writes (PostgreSQL: the transaction's id; SQLite: a random 63-bit
number). A reader puts `SETTINGS_STAMP` beside its query (a column of a statement it makes
anyway): what it reads and the stamp come from one snapshot, so a copy kept under stamp S
is exactly what every later statement that sees S would read. A statement that sees
another stamp finds no copy and reads afresh, so a change is used by every transaction that
begins after it commits, in every process. With no stamp row (a test emptied the table) the
stamp reads NULL and nothing is kept: every look-up goes to the database.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

from sqlalchemy import Connection, ScalarSelect, select

from booking_api.interop.models import SettingsStamp

SETTINGS_TABLES = ("order_code_map", "exam_type", "interop_subscriber")
SETTINGS_STAMP: ScalarSelect[int] = (
    select(SettingsStamp.stamp).where(SettingsStamp.id == 1).scalar_subquery())
"""The current stamp, as a column of any query (NULL when there is no stamp row)."""
MISSING: Any = object()
"""What `StampedCopies.get` answers when it has no copy to trust."""


class StampedCopies:
    """Values read from a database under the stamp seen in the same statement: one set of
    copies per database (its URL), replaced whole when a newer stamp is seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_database: dict[Any, tuple[int, dict[Hashable, Any]]] = {}

    def get(self, connection: Connection, stamp: int | None, key: Hashable) -> Any:
        """The copy of `key` read under `stamp`, or MISSING."""
        if stamp is None:
            return MISSING
        kept = self._by_database.get(connection.engine.url)
        if kept is None or kept[0] != stamp:
            return MISSING
        return kept[1].get(key, MISSING)

    def put(self, connection: Connection, stamp: int | None, key: Hashable,
            value: Any) -> None:
        """Keep `value`, read in the statement that saw `stamp` (NULL: keep nothing)."""
        if stamp is None:
            return
        url = connection.engine.url
        with self._lock:
            kept = self._by_database.get(url)
            if kept is None or kept[0] != stamp:
                kept = (stamp, {})
                self._by_database[url] = kept
            kept[1][key] = value

    def clear(self) -> None:
        with self._lock:
            self._by_database.clear()


def stamp_triggers(dialect: str) -> list[str]:
    """DDL that has the database restamp the settings in each transaction changing them."""
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION cdip_stamp_interop_settings() RETURNS trigger AS $$ "
            "BEGIN INSERT INTO interop_settings_stamp (id, stamp) "
            "VALUES (1, pg_current_xact_id()::text::bigint) "
            "ON CONFLICT (id) DO UPDATE SET stamp = EXCLUDED.stamp; RETURN NULL; END; "
            "$$ LANGUAGE plpgsql",
            *(f"CREATE TRIGGER {table}_settings_stamp AFTER INSERT OR UPDATE OR DELETE OR "
              f"TRUNCATE ON {table} FOR EACH STATEMENT "
              "EXECUTE FUNCTION cdip_stamp_interop_settings()" for table in SETTINGS_TABLES)]
    return [f"CREATE TRIGGER {table}_settings_stamp_{event.lower()} AFTER {event} ON {table} "
            "FOR EACH ROW BEGIN INSERT OR REPLACE INTO interop_settings_stamp (id, stamp) "
            "VALUES (1, abs(random())); END"
            for table in SETTINGS_TABLES for event in ("INSERT", "UPDATE", "DELETE")]


def drop_stamp_triggers(dialect: str) -> list[str]:
    """DDL undoing `stamp_triggers`."""
    if dialect == "postgresql":
        return [*(f"DROP TRIGGER IF EXISTS {t}_settings_stamp ON {t}" for t in SETTINGS_TABLES),
                "DROP FUNCTION IF EXISTS cdip_stamp_interop_settings()"]
    return [f"DROP TRIGGER IF EXISTS {t}_settings_stamp_{e}" for t in SETTINGS_TABLES
            for e in ("insert", "update", "delete")]

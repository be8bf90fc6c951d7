"""The order-code map: which catalogue exam a placer's order code means. NICIP codes (the
catalogue's own codes are NICIP-style) map to themselves; SNOMED CT and placers' local codes
map through rows loaded from a CSV (`order_codes.csv` here is the network's shipped map).
A code with no row is not an error: the order waits in the clerk's queue, never dropped."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from booking_api.interop.incoming import NICIP, SNOMED, OrderCode
from booking_api.interop.models import OrderCodeMap, PlacerOrder, Subscriber
from booking_api.interop.settings_cache import MISSING, SETTINGS_STAMP, StampedCopies
from booking_api.network.models import ExamType

SHIPPED_MAP = Path(__file__).with_name("order_codes.csv")
COLUMNS = ("code_system", "code", "exam_code", "display")


class OrderCodeFileError(ValueError):
    """A mapping file row that cannot be loaded; names the file, row and column."""


@dataclass(frozen=True)
class CodeMapping:
    code_system: str
    code: str
    exam_code: str
    display: str | None = None


def read_code_map(path: Path) -> list[CodeMapping]:
    """The rows of a mapping CSV (code_system, code, exam_code, display), checked for shape."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS[:3] if c not in (reader.fieldnames or [])]
        if missing:
            raise OrderCodeFileError(f"{path.name}: missing column(s) {', '.join(missing)}")
        rows = []
        for number, row in enumerate(reader, start=2):
            for column in COLUMNS[:3]:
                if not (row.get(column) or "").strip():
                    raise OrderCodeFileError(f"{path.name} row {number}: {column} is blank")
            rows.append(CodeMapping(row["code_system"].strip().upper(), row["code"].strip(),
                                    row["exam_code"].strip(),
                                    (row.get("display") or "").strip() or None))
    return rows


def load_code_map(session: Session, mappings: Iterable[CodeMapping],
                  with_catalogue: bool = True) -> int:
    """Upsert mappings (and, by default, every catalogue exam as its own NICIP code); an
    exam code the catalogue lacks is refused naming the row. Returns the rows written."""
    known = set(session.scalars(select(ExamType.code)))
    rows = [m for m in mappings]
    if with_catalogue:
        names = {code: name for code, name in session.execute(select(ExamType.code, ExamType.name))}
        rows += [CodeMapping(NICIP, code, code, names[code]) for code in sorted(known)]
    for mapping in rows:
        if mapping.exam_code not in known:
            raise OrderCodeFileError(f"{mapping.code_system} {mapping.code}: exam_code "
                                     f"'{mapping.exam_code}' is not in the catalogue")
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(OrderCodeMap)
    statement = insert.on_conflict_do_update(
        index_elements=["code_system", "code"],
        set_={"exam_code": insert.excluded.exam_code, "display": insert.excluded.display})
    session.connection().execute(statement, [vars(m) for m in rows])
    return len(rows)


def exam_for(session: Session, code: OrderCode, stamp: int | None = None) -> str | None:
    """The exam an order code means, or None when it is not mapped (yet). A NICIP code that
    is a catalogue exam's own code means that exam even before the map is loaded. Answered
    from this process's copy when `stamp` (the settings stamp the caller read in this
    transaction) is the copy's; otherwise read, with the stamp, in one statement."""
    connection = session.connection()
    key = ("exam", code.code_system, code.code)
    kept = _COPIES.get(connection, stamp, key)
    if kept is not MISSING:
        return kept
    row = connection.execute(_EXAM_AND_STAMP, {"system": code.code_system,
                                               "code": code.code}).one()
    exam = row.mapped if row.mapped is not None or code.code_system != NICIP else row.own
    _COPIES.put(connection, row.stamp, key, exam)
    return exam


def is_known_system(session: Session, code_system: str, stamp: int | None = None) -> bool:
    """Whether codes of this system can be mapped here: NICIP, SNOMED, or a system with
    mappings loaded, or a placer known to send orders or receive status (its local codes).
    The settings part is answered from this process's copy under `stamp` (as `exam_for`);
    placer orders are read each time (they are not settings)."""
    if code_system in (NICIP, SNOMED):
        return True
    connection = session.connection()
    key = ("system", code_system)
    in_settings = _COPIES.get(connection, stamp, key)
    if in_settings is MISSING:
        row = connection.execute(_SYSTEM_AND_STAMP, {"system": code_system}).one()
        in_settings = bool(row.mapped or row.subscribed)
        _COPIES.put(connection, row.stamp, key, in_settings)
    if in_settings:
        return True
    return session.scalar(select(PlacerOrder.id).where(
        PlacerOrder.placer_system == code_system).limit(1)) is not None


_COPIES = StampedCopies()
_EXAM_AND_STAMP = select(
    select(OrderCodeMap.exam_code).where(OrderCodeMap.code_system == bindparam("system"),
                                         OrderCodeMap.code == bindparam("code"))
    .scalar_subquery().label("mapped"),
    select(ExamType.code).where(ExamType.code == bindparam("code")).scalar_subquery()
    .label("own"),
    SETTINGS_STAMP.label("stamp"))
_SYSTEM_AND_STAMP = select(
    exists().where(OrderCodeMap.code_system == bindparam("system")).label("mapped"),
    exists().where(Subscriber.placer_system == bindparam("system")).label("subscribed"),
    SETTINGS_STAMP.label("stamp"))

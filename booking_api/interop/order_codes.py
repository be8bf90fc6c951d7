"""The order-code map: which catalogue exam a placer's order code means. NICIP codes (the
catalogue's own codes are NICIP-style) map to themselves; SNOMED CT and placers' local codes
map through rows loaded from a CSV (`order_codes.csv` here is the network's shipped map).
A code with no row is not an error: the order waits in the clerk's queue, never dropped."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from booking_api.interop.incoming import NICIP, SNOMED, OrderCode
from booking_api.interop.models import OrderCodeMap, PlacerOrder, Subscriber
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


def exam_for(session: Session, code: OrderCode) -> str | None:
    """The exam an order code means, or None when it is not mapped (yet). A NICIP code that
    is a catalogue exam's own code means that exam even before the map is loaded."""
    mapped = session.scalar(select(OrderCodeMap.exam_code).where(
        OrderCodeMap.code_system == code.code_system, OrderCodeMap.code == code.code))
    if mapped is None and code.code_system == NICIP:
        mapped = session.scalar(select(ExamType.code).where(ExamType.code == code.code))
    return mapped


def is_known_system(session: Session, code_system: str) -> bool:
    """Whether codes of this system can be mapped here: NICIP, SNOMED, or a system with
    mappings loaded, or a placer known to send orders or receive status (its local codes)."""
    if code_system in (NICIP, SNOMED):
        return True
    for query in (select(OrderCodeMap.code).where(OrderCodeMap.code_system == code_system),
                  select(PlacerOrder.id).where(PlacerOrder.placer_system == code_system),
                  select(Subscriber.id).where(Subscriber.placer_system == code_system)):
        if session.scalar(query.limit(1)) is not None:
            return True
    return False

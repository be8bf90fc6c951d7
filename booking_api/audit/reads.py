"""Who looked at whom: staff reads of a patient's record, logged for information governance.

The service's read functions (appointments, requests and their facts, messages, the FHIR
reads) take a `Reader` and call `record_reads` with the patients whose record they just
read, so every route and page that reads through them is logged without doing anything
itself. A patient reading their own record passes no reader and is not logged.

One statement per read function, however many patients it read (a FHIR search over many):
- in a write transaction (a change that answers with the record it changed) the rows go in
  with the change and commit with it, or vanish with it (nothing was shown then);
- in a read-only session (the API's GET routes, pages) the rows go at once through the
  database's bookkeeping engine (`Database.bookkeeping`: on PostgreSQL one autocommit round
  trip that does not wait for the disk; on SQLite a short write transaction, as SQLite
  allows no writes in a reader), before the record reaches the caller: no read without its
  row. `use_read_log` wires that engine on a session factory (`booking_api.database`).
  On SQLite the session's read transaction is ended first (committed: nothing to write,
  loaded objects stay): a write committed while its own thread still holds a read snapshot
  keeps SQLite from ever finishing a WAL checkpoint, and every later commit then tries
  again, ~8 ms each (measured with `cdip bench reads`: +7.6 ms a read, against +0.3 ms).

Rows hold ids, the route and who read, never what was shown; nothing about the patient goes
to the process's logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col

from booking_api.audit.models import PatientRecordRead, PatientRecordReadPublic
from booking_api.audit.services import Actor
from booking_api.core.columns import utc_now
from booking_api.core.db import READ_ONLY, bookkeeping_transaction
from booking_api.core.logging import request_id_var


class ReadAuditNotWired(RuntimeError):
    """A staff read in a read-only session with nowhere to write its access-log row (a bug:
    make sessions from `booking_api.database.open_database`)."""


@dataclass(frozen=True)
class Reader:
    """A member of staff (or a staff system over FHIR) reading patients' records, and the
    route they read through (`GET /api/appointments/{appointment_id}`)."""

    actor: Actor
    route: str | None = None


@dataclass(frozen=True)
class PartRead:
    """One part of one patient's record that was read."""

    patient_id: int
    what: str
    item_id: int | str | None = None


def record_read(session: Session, reader: Reader | None, patient_id: int, what: str,
                item_id: int | str | None = None) -> None:
    """Log one read of part of a patient's record (nothing when `reader` is None)."""
    if reader is not None:
        record_reads(session, reader, (PartRead(patient_id, what, item_id),))


def record_reads(session: Session, reader: Reader | None, parts: Iterable[PartRead]) -> None:
    """Log reads of parts of patients' records, one row each, in one statement."""
    if reader is None:
        return
    at, correlation = utc_now(), request_id_var.get(None)
    rows = [_row(reader, part, at, correlation) for part in parts]
    if not rows:
        return
    if not _read_only(session):
        session.connection().execute(_INSERT, rows)
        return
    engine = session.info.get(_READ_LOG)
    if engine is None:
        raise ReadAuditNotWired("this read-only session has no engine for the access log: "
                                "make sessions from booking_api.database.open_database")
    if engine.dialect.name == "sqlite":
        session.commit()  # end the read first (loaded objects stay): see module docstring
    with bookkeeping_transaction(engine) as connection:
        connection.execute(_INSERT, rows)


def reads_of_patient(session: Session, patient_id: int, *, before_id: int | None = None,
                     limit: int = 100) -> list[PatientRecordReadPublic]:
    """The access log of one patient's record, newest first; page with `before_id` = the
    last id of the page before."""
    query = select(PatientRecordRead).where(PatientRecordRead.patient_id == patient_id)
    if before_id is not None:
        query = query.where(col(PatientRecordRead.id) < before_id)
    rows = session.scalars(query.order_by(col(PatientRecordRead.id).desc()).limit(limit))
    return [PatientRecordReadPublic.model_validate(row, from_attributes=True) for row in rows]


def use_read_log(factory: sessionmaker[Session], engine: Engine) -> None:
    """Have read-only sessions of `factory` write their access-log rows through `engine`."""
    factory.kw["info"] = {**factory.kw.get("info", {}), _READ_LOG: engine}


def _read_only(session: Session) -> bool:
    bind = session.get_bind()
    return bool(bind.get_execution_options().get(READ_ONLY, False))


def _row(reader: Reader, part: PartRead, at: Any, correlation: str | None) -> dict[str, Any]:
    return {"at": at, "patient_id": part.patient_id, "actor": reader.actor.name,
            "role": reader.actor.role, "channel": reader.actor.channel, "what": part.what,
            "item_id": None if part.item_id is None else str(part.item_id),
            "route": reader.route, "correlation_id": correlation}


_READ_LOG = "cdip_read_log_engine"
_INSERT = insert(PatientRecordRead)

"""Disruptions as a service manager works them from the console: what is disrupted now or
coming (a room down, a site closed, staff short, a list cancelled or added), recording and
revoking one, and repairing the diary around one: a dry run first that shows who would move
where, then the repair applied in one transaction. All through the booking service's own
flows (`diary.disruptions`, `diary.flows.repair_and_apply`), so it is checked, audited and
each moved patient is told through the outbox, exactly as `cdip disruption` and
`cdip diary repair` do it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from booking_api.appointments.models import Appointment
from booking_api.audit.services import Actor
from booking_api.core.db import Database
from booking_api.core.errors import InvalidInput, NotFound
from booking_api.diary import disruptions
from booking_api.diary.flows import repair_and_apply
from booking_api.diary.models import (
    DisruptionCreate,
    DisruptionKind,
    DisruptionState,
    RepairFollowUp,
)
from domain.lifecycle import AppointmentState
from domain.network import Network, load_reference_network
from domain.session_templates import session_templates
from domain.staff_availability import StaffAvailability, load_reference_staff_availability
from optimiser.repair import RepairInputError, RepairSettings

REPAIR_SECONDS = 5.0
"""The optimiser's time limit for a repair asked for from a page (a plan always comes back
within it: the greedy floor)."""


@dataclass(frozen=True)
class DisruptionLine:
    disruption_id: int
    kind: DisruptionKind
    where: str
    first_day: date
    last_day: date
    reason: str
    state: DisruptionState
    created_by: str
    revoked_by: str | None
    revoke_reason: str | None


@dataclass(frozen=True)
class MoveLine:
    appointment_id: int
    request_id: int
    priority: str
    source: str
    target: str
    delay_days: int
    extra_km: float | None
    forced: bool


@dataclass(frozen=True)
class UnplacedLine:
    appointment_id: int
    request_id: int
    source: str
    reason: str


@dataclass(frozen=True)
class RepairOutcome:
    disruption_id: int
    applied: bool
    moves: tuple[MoveLine, ...]
    unplaced: tuple[UnplacedLine, ...]
    forced_moves: int
    excess_moves: int
    changed_sessions: int
    seconds: float
    method: str
    lists_written: int = 0
    lists_closed: int = 0


def disruption_lines(db: Database, today: date, *, every: bool = False
                     ) -> list[DisruptionLine]:
    """Disruptions still running or coming (every one, revoked and past too, with `every`)."""
    with db.reading() as session:
        rows = disruptions.list_disruptions(session, active_only=not every,
                                            ending_from=None if every else today)
        return [_line(row) for row in rows]


def disruption_line(db: Database, disruption_id: int) -> DisruptionLine:
    with db.reading() as session:
        for row in disruptions.list_disruptions(session):
            if row.id == disruption_id:
                return _line(row)
    raise NotFound("disruption", disruption_id, "disruption_id")


@dataclass(frozen=True)
class FollowUpLine:
    request_id: int
    appointment_id: int
    start_at: datetime | None
    reason: str
    since: datetime


def follow_ups_to_work(db: Database, limit: int = 50) -> list[FollowUpLine]:
    """Patients a repair could not move whose lost booking still stands: a clerk agrees
    another time with them (moving or cancelling the booking takes them off the list)."""
    with db.reading() as session:
        rows = session.execute(
            select(RepairFollowUp.request_id, RepairFollowUp.appointment_id,
                   Appointment.start_at, RepairFollowUp.reason, RepairFollowUp.created_at)
            .join(Appointment, Appointment.id == RepairFollowUp.appointment_id)
            .where(col(RepairFollowUp.resolved_at).is_(None),
                   Appointment.state == AppointmentState.BOOKED)
            .order_by(col(Appointment.start_at), col(RepairFollowUp.id)).limit(limit)).all()
    return [FollowUpLine(r[0], r[1], _aware(r[2]), r[3], _aware(r[4])) for r in rows]


def record_disruption(db: Database, actor: Actor, body: DisruptionCreate, *, now: datetime,
                      zone: ZoneInfo) -> int:
    """Keep a disruption; InvalidInput naming the field (nothing kept) when it is wrong or
    overlaps another."""
    with db.transaction() as session:
        record = disruptions.add_disruption(session, actor, body, templates=session_templates(),
                                            now=now, zone=zone)
        assert record.id is not None
        return record.id


def revoke_disruption(db: Database, actor: Actor, disruption_id: int, reason: str, *,
                      now: datetime) -> None:
    with db.transaction() as session:
        disruptions.revoke_disruption(session, actor, disruption_id, reason, now=now)


def repair_around(db: Database, actor: Actor, disruption_id: int, *, now: datetime,
                  dry_run: bool, seconds: float = REPAIR_SECONDS) -> RepairOutcome:
    """Re-plan the diary around one active disruption: `dry_run` shows who would move where
    and changes nothing; otherwise the plan is applied in one transaction (read and solved
    again if the diary changed meanwhile). NotFound for an unknown or revoked disruption;
    SlotTaken when the diary kept changing; InvalidInput for a problem the optimiser cannot
    take."""
    network, availability = _network()

    def chosen(session) -> list:
        for record in disruptions.list_disruptions(session, active_only=True):
            if record.id == disruption_id:
                return [(record.id, disruptions.as_repair_disruption(record))]
        raise NotFound("disruption", disruption_id, "disruption_id")

    try:
        run = repair_and_apply(db.engine, actor, network, session_templates(), chosen, now=now,
                               dry_run=dry_run, availability=availability,
                               settings=RepairSettings(time_limit_s=seconds))
    except RepairInputError as error:
        raise InvalidInput(f"the optimiser cannot take this repair: {error}",
                           "disruption_id") from error
    result = run.result
    return RepairOutcome(
        disruption_id, run.applied is not None,
        tuple(MoveLine(m.appointment_id, m.request_id, m.priority.value, m.source.describe(),
                       m.target.describe(), m.delay_days, m.extra_km, m.forced)
              for m in result.moves),
        tuple(UnplacedLine(u.appointment_id, u.request_id, u.source.describe(), u.reason)
              for u in result.unplaced),
        result.forced_moves, result.excess_moves, result.changed_sessions,
        round(result.seconds, 1), result.method,
        run.applied.sessions_written if run.applied else 0,
        run.applied.sessions_closed if run.applied else 0)


def disruption_body(fields: dict[str, str | None]) -> DisruptionCreate:
    """A disruption from form text; InvalidInput naming the first field that is wrong."""
    try:
        return DisruptionCreate.model_validate(
            {name: value for name, value in fields.items() if value not in (None, "")})
    except ValueError as error:
        problem = error.errors()[0] if hasattr(error, "errors") else {"loc": ("kind",),
                                                                      "msg": str(error)}
        field = str(problem["loc"][-1]) if problem["loc"] else "kind"
        raise InvalidInput(_plain(problem["msg"]), field) from None


@cache
def _network() -> tuple[Network, tuple[StaffAvailability, ...]]:
    network = load_reference_network()
    return network, load_reference_staff_availability(network)


def _line(row) -> DisruptionLine:
    where = ", ".join(str(part) for part in (
        row.room_id, row.site_id, row.role.value if row.role else None,
        f"{row.people} fewer" if row.people else None,
        row.period.value if row.period else None, row.template_id) if part)
    return DisruptionLine(row.id, row.kind, where, row.first_day, row.last_day, row.reason,
                          row.state, row.created_by, row.revoked_by, row.revoke_reason)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _plain(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Input should be ")

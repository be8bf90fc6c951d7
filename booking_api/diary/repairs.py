"""Repairing the diary in the database when disruptions strike: the optimiser's problem is
read from the service's rows (`repair_problem`), solved outside any transaction
(`optimiser.repair_diary`), then applied in one transaction (`apply_repair`) through the
booking service's own paths: each move is a reschedule by the service (the new slot taken by
the race-safe `take_slot`, the old one released, one MOVED_BY_SERVICE message through the
outbox with the new time and a link to choose another); lists the repair opens or changes are
written like a diary build's; lists that no longer run lose their free slots. A patient who
cannot be placed keeps the booking and goes on the clerks' list (`RepairFollowUp`) with the
reason; a hold on a list that no longer runs ends (the patient's own lapses silently, one made
for them is told). If anything has changed since the plan was read (someone booked a target
slot), the whole repair is refused with SlotTaken and nothing changes: read, solve and apply
again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from booking_api.appointments.flows import reschedule
from booking_api.appointments.models import Appointment
from booking_api.appointments.taking import expire_hold, mark_slots
from booking_api.audit.services import Actor, record_audit
from booking_api.core.errors import SlotTaken
from booking_api.diary.models import RepairFollowUp
from booking_api.diary.services import write_sessions
from booking_api.slots.eligibility import load_request_facts, slot_request_for
from booking_api.slots.models import DiarySession, DiarySessionStatus, Slot
from domain.lifecycle import AppointmentState, SlotStatus
from domain.network import Network
from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffAvailability
from optimiser.problem import RoomSession
from optimiser.repair import (
    BlockedSlot,
    Booking,
    Disruption,
    Move,
    RepairProblem,
    RepairResult,
    RepairSettings,
)
from optimiser.repair.disruption import repair_window
from slot_rules.slot_request import LONDON


@dataclass(frozen=True)
class AppliedRepair:
    moved: int
    follow_ups: int
    sessions_written: int
    sessions_closed: int


def repair_problem(session: Session, network: Network,
                   templates: Mapping[str, SessionTemplate],
                   disruptions: Sequence[Disruption], *, now: datetime,
                   availability: tuple[StaffAvailability, ...] = (),
                   settings: RepairSettings | None = None) -> RepairProblem:
    """The diary of the days a repair may touch, its booked patients and blocked slots."""
    bare = RepairProblem(network, templates, (), (), tuple(disruptions), now)
    first, last = repair_window(bare, settings or RepairSettings())
    room_sites = {room.room_id: room.site_id for room in network.rooms}
    sessions = tuple(
        RoomSession(row.room_id, room_sites[row.room_id], row.session_date, row.period,
                    row.template_id)
        for row in session.scalars(select(DiarySession).where(
            col(DiarySession.session_date) >= first, col(DiarySession.session_date) <= last,
            DiarySession.status == DiarySessionStatus.OPEN))
        if row.template_id and row.room_id in room_sites)
    start = datetime.combine(first, datetime.min.time(), tzinfo=LONDON).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(),
                           tzinfo=LONDON).astimezone(UTC)
    bookings = []
    for appointment in session.scalars(select(Appointment).where(
            Appointment.state == AppointmentState.BOOKED, col(Appointment.start_at) >= start,
            col(Appointment.start_at) < end).order_by(col(Appointment.id))):
        facts = load_request_facts(session, appointment.request_id)
        bookings.append(Booking(
            appointment.id, appointment.request_id, appointment.patient_id,
            appointment.room_id, _utc(appointment.start_at), slot_request_for(facts, now),
            _breach_date(facts.request.received_at.date(), facts.request.priority.value)))
    blocked = tuple(BlockedSlot(slot.room_id, _utc(slot.start_at)) for slot in session.scalars(
        select(Slot).where(Slot.status == SlotStatus.BUSY_UNAVAILABLE,
                           col(Slot.start_at) >= start, col(Slot.start_at) < end)))
    return RepairProblem(network, templates, sessions, tuple(bookings), tuple(disruptions), now,
                         availability, blocked)


def apply_repair(session: Session, actor: Actor, result: RepairResult, *,
                 templates: Mapping[str, SessionTemplate], room_sites: Mapping[str, str],
                 now: datetime, disruption_ids: Sequence[int] = ()) -> AppliedRepair:
    """Carry out a repair in the caller's transaction; SlotTaken (the caller rolls back) when
    a slot it moves someone into is no longer free."""
    opened = [c for c in result.session_changes if c.after is not None and c.before is None]
    changed = [c for c in result.session_changes
               if c.after is not None and c.before is not None]
    closed = [c for c in result.session_changes if c.after is None]
    write_sessions(session, [((c.room_id, c.date, c.period), c.after) for c in opened],
                   templates, room_sites, LONDON, now)
    waiting = _move_those_with_a_free_slot(session, actor, list(result.moves), now)
    if changed:
        _refuse_if_occupied(session, [(c.room_id, c.date, c.period) for c in changed])
        write_sessions(session, [((c.room_id, c.date, c.period), c.after) for c in changed],
                       templates, room_sites, LONDON, now)
    waiting = _move_those_with_a_free_slot(session, actor, waiting, now)
    if waiting:
        raise SlotTaken(f"{waiting[0].target.describe()} is no longer free for appointment "
                        f"{waiting[0].appointment_id}; the diary changed since the repair was "
                        "planned")
    for change in closed:
        _close(session, actor, (change.room_id, change.date, change.period), now)
    for unplaced in result.unplaced:
        session.add(RepairFollowUp(appointment_id=unplaced.appointment_id,
                                   request_id=unplaced.request_id, reason=unplaced.reason,
                                   disruption_ids=";".join(map(str, disruption_ids)),
                                   created_at=now))
    session.flush()
    record_audit(session, actor, "diary.repaired", "disruption",
                 ";".join(map(str, disruption_ids)) or "-",
                 after={"moved": len(result.moves), "unplaced": len(result.unplaced),
                        "sessions_changed": len(result.session_changes)})
    return AppliedRepair(len(result.moves), len(result.unplaced),
                         len(opened) + len(changed), len(closed))


def open_follow_ups(session: Session) -> list[RepairFollowUp]:
    """Patients a repair could not move, still to be rebooked by a clerk."""
    return list(session.scalars(select(RepairFollowUp).where(
        col(RepairFollowUp.resolved_at).is_(None)).order_by(col(RepairFollowUp.id))))


def _move_those_with_a_free_slot(session: Session, actor: Actor, moves: list[Move],
                                 now: datetime) -> list[Move]:
    """Make every move whose target's first slot is free, again while any progress is made
    (an excess move frees the slot another move goes to); returns those still waiting."""
    waiting = moves
    while waiting:
        still = []
        for move in waiting:
            slot = _free_slot(session, move.target.room_id, move.target.start)
            if slot is None:
                still.append(move)
                continue
            reschedule(session, actor, move.appointment_id, slot.id, reason=move.reason,
                       now=now, by_service=True)
        if len(still) == len(waiting):
            return still
        waiting = still
    return []


def _free_slot(session: Session, room_id: str, start: datetime) -> Slot | None:
    return session.scalar(select(Slot).where(
        Slot.room_id == room_id, Slot.start_at == start.astimezone(UTC),
        Slot.status == SlotStatus.FREE))


def _session_row(session: Session, key: tuple[str, date, object]) -> DiarySession | None:
    return session.scalar(select(DiarySession).where(
        DiarySession.room_id == key[0], DiarySession.session_date == key[1],
        DiarySession.period == key[2]))


def _refuse_if_occupied(session: Session, keys: list[tuple]) -> None:
    for key in keys:
        row = _session_row(session, key)
        if row is not None and _occupied(session, row):
            raise SlotTaken(f"{key[0]} {key[1]} {key[2]} has a patient the repair did not "
                            "expect; the diary changed since the repair was planned")


def _occupied(session: Session, row: DiarySession) -> bool:
    return session.scalar(select(Slot.id).where(
        Slot.session_id == row.id,
        col(Slot.status).in_([SlotStatus.BUSY, SlotStatus.BUSY_TENTATIVE]))) is not None


def _close(session: Session, actor: Actor, key: tuple, now: datetime) -> None:
    """A list that no longer runs: holds on it end (a hold could otherwise lapse later and
    free a slot in a room that is down), its free slots are withdrawn; the session closes
    unless a patient the repair could not move is still in it (the clerks' list has them)."""
    row = _session_row(session, key)
    if row is None:
        return
    slot_ids = select(Slot.id).where(Slot.session_id == row.id)
    for hold in list(session.scalars(select(Appointment).where(
            Appointment.state == AppointmentState.HELD,
            col(Appointment.slot_id).in_(slot_ids)))):
        expire_hold(session, actor, hold, now)
    free = list(session.scalars(select(Slot).where(Slot.session_id == row.id,
                                                   Slot.status == SlotStatus.FREE)))
    mark_slots(session, free, SlotStatus.ENTERED_IN_ERROR)
    if not _occupied(session, row):
        row.status = DiarySessionStatus.CANCELLED
        session.add(row)


def _breach_date(received: date, priority: str) -> date:
    return received + timedelta(days=14 if priority == "two_week_wait" else 42)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)



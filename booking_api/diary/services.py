"""Writing a week's diary into the database: sessions become bookable slots laid out by their
template's slot pattern (families in the template's order, `slot_minutes` each, from the start
of the session in local time, stored in UTC).

Rewriting a week changes only what the new plan changes, and never a session someone has a
stake in: a session with a held or booked appointment, or a slot a clerk has blocked, is kept as
it is and reported as a conflict. Slots that go are withdrawn (`entered-in-error`), never
deleted, so appointment history and the search index's change stamps stay whole. A slot at the
same room and start time is updated in place, keeping its id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlmodel import Session, col

from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.slots.models import DiarySession, DiarySessionStatus, Slot
from domain.lifecycle import SlotStatus
from domain.session_templates import SessionTemplate
from domain.vocabulary import SessionPeriod
from optimiser.problem import RoomSession

PROTECTED = {SlotStatus.BUSY, SlotStatus.BUSY_TENTATIVE, SlotStatus.BUSY_UNAVAILABLE}
"""Slot states a rebuild must not touch: booked, held, blocked by a clerk."""


@dataclass(frozen=True)
class DiaryConflict:
    """A session the new plan would change but which was kept, and why."""

    room_id: str
    session_date: date
    period: SessionPeriod
    kept_template: str | None
    planned_template: str | None
    reason: str


@dataclass
class DiaryWriteReport:
    sessions_created: int = 0
    sessions_changed: int = 0
    sessions_closed: int = 0
    sessions_unchanged: int = 0
    slots_created: int = 0
    slots_updated: int = 0
    slots_withdrawn: int = 0
    conflicts: list[DiaryConflict] = field(default_factory=list)


@dataclass(frozen=True)
class PlannedSlot:
    start_at: datetime
    end_at: datetime
    family: str


def slot_pattern(template: SessionTemplate, day: date, period: SessionPeriod,
                 zone: ZoneInfo) -> list[PlannedSlot]:
    """The template's slots for one session: its families in order, back to back (UTC)."""
    start = datetime.combine(day, period.start, tzinfo=zone).astimezone(UTC)
    step = timedelta(minutes=template.slot_minutes)
    slots = []
    for family, count in template.capacity:
        for _ in range(count):
            slots.append(PlannedSlot(start, start + step, family.value))
            start += step
    return slots


def write_week(session: Session, week_start: date, planned: Iterable[RoomSession],
               templates: Mapping[str, SessionTemplate], room_sites: Mapping[str, str],
               zone: ZoneInfo, now: datetime) -> DiaryWriteReport:
    """Make the database's diary for the 7 days from `week_start` match the plan, except where
    held, booked or blocked slots forbid it (reported as conflicts)."""
    report = DiaryWriteReport()
    week_end = week_start + timedelta(days=7)
    existing = {(s.room_id, s.session_date, s.period): s for s in session.scalars(
        select(DiarySession).where(col(DiarySession.session_date) >= week_start,
                                   col(DiarySession.session_date) < week_end))}
    wanted = {(p.room_id, p.date, p.period): p.template_id for p in planned
              if week_start <= p.date < week_end}
    slots = _slots_by_session(session, [s.id for s in existing.values()])
    protected = _protected_sessions(session, existing, slots, week_start, week_end)
    inserts: list[tuple[DiarySession, PlannedSlot, SessionTemplate, str]] = []
    for key in sorted(set(existing) | set(wanted), key=lambda k: (k[1], k[0], k[2])):
        row, template_id = existing.get(key), wanted.get(key)
        if row is not None and _unchanged(row, template_id):
            report.sessions_unchanged += row.status is DiarySessionStatus.OPEN
            continue
        if row is not None and row.id in protected:
            report.conflicts.append(DiaryConflict(
                key[0], key[1], key[2], row.template_id, template_id, protected[row.id]))
            continue
        inserts += _apply(session, key, row, template_id, slots.get(row.id, []) if row else [],
                          templates, room_sites, zone, now, report)
    _insert_slots(session, inserts, now)
    report.slots_created = len(inserts)
    return report


def write_sessions(session: Session, changes: Iterable[tuple[tuple[str, date, SessionPeriod],
                                                              str]],
                   templates: Mapping[str, SessionTemplate], room_sites: Mapping[str, str],
                   zone: ZoneInfo, now: datetime) -> DiaryWriteReport:
    """Open or re-template single sessions ((room, day, period), template) as a repair
    decides; the caller has made sure nobody holds a slot in a session it changes."""
    report = DiaryWriteReport()
    inserts: list = []
    for key, template_id in changes:
        row = session.scalar(select(DiarySession).where(
            DiarySession.room_id == key[0], DiarySession.session_date == key[1],
            DiarySession.period == key[2]))
        old = list(session.scalars(select(Slot).where(Slot.session_id == row.id))) if row else []
        inserts += _apply(session, key, row, template_id, old, templates, room_sites, zone,
                          now, report)
    _insert_slots(session, inserts, now)
    report.slots_created = len(inserts)
    return report


def _insert_slots(session: Session, inserts, now: datetime) -> None:
    """New slots in bulk, once every new session has its id."""
    session.flush()
    rows = [{"session_id": row.id, "room_id": row.room_id, "site_id": site_id,
             "start_at": planned.start_at, "end_at": planned.end_at,
             "modality": template.modality, "families": planned.family,
             "status": SlotStatus.FREE, "template_id": template.template_id, "version": 1,
             "changed_at": now}
            for row, planned, template, site_id in inserts]
    statement = insert(Slot.__table__)  # Core: the ORM's per-row bookkeeping was a third
    for chunk in range(0, len(rows), 20_000):  # of a week's write, and nothing here needs it
        session.execute(statement, rows[chunk:chunk + 20_000])


def _unchanged(row: DiarySession, template_id: str | None) -> bool:
    if template_id is None:
        return row.status is DiarySessionStatus.CANCELLED
    return row.status is DiarySessionStatus.OPEN and row.template_id == template_id


def _apply(session: Session, key, row: DiarySession | None, template_id: str | None,
           old_slots: list[Slot], templates, room_sites, zone, now, report) -> list:
    """Change one session; returns the slots still to insert."""
    room_id, day, period = key
    if template_id is None:
        row.status = DiarySessionStatus.CANCELLED
        report.sessions_closed += 1
        return _replace_slots(row, old_slots, [], None, room_sites[room_id], now, report)
    if row is None:
        row = DiarySession(room_id=room_id, session_date=day, period=period,
                           template_id=template_id)
        session.add(row)
        report.sessions_created += 1
    else:
        row.status = DiarySessionStatus.OPEN
        row.template_id = template_id
        report.sessions_changed += 1
    template = templates[template_id]
    return _replace_slots(row, old_slots, slot_pattern(template, day, period, zone), template,
                          room_sites[room_id], now, report)


def _replace_slots(row: DiarySession, old: list[Slot], new: list[PlannedSlot],
                   template: SessionTemplate | None, site_id: str, now: datetime,
                   report: DiaryWriteReport) -> list:
    """Update slots that keep their start, withdraw the rest; returns the slots to insert."""
    by_start = {_utc(slot.start_at): slot for slot in old}
    inserts = []
    for planned in new:
        slot = by_start.pop(planned.start_at, None)
        if slot is None:
            inserts.append((row, planned, template, site_id))
            continue
        slot.end_at, slot.families = planned.end_at, planned.family
        slot.template_id, slot.status = template.template_id, SlotStatus.FREE
        slot.version += 1
        slot.changed_at = now
        report.slots_updated += 1
    for slot in by_start.values():
        if slot.status is not SlotStatus.ENTERED_IN_ERROR:
            slot.status = SlotStatus.ENTERED_IN_ERROR
            slot.version += 1
            slot.changed_at = now
            report.slots_withdrawn += 1
    return inserts


def _slots_by_session(session: Session, session_ids: list[int]) -> dict[int, list[Slot]]:
    result: dict[int, list[Slot]] = defaultdict(list)
    for chunk in range(0, len(session_ids), 5000):
        ids = session_ids[chunk:chunk + 5000]
        for slot in session.scalars(select(Slot).where(col(Slot.session_id).in_(ids))):
            result[slot.session_id].append(slot)
    return result


def _protected_sessions(session: Session, existing, slots: dict[int, list[Slot]],
                        week_start: date, week_end: date) -> dict[int, str]:
    """Session id → why it must stay: held or booked slots (an active appointment, including
    one running on from an earlier slot), or slots a clerk blocked."""
    reasons: dict[int, str] = {}
    for session_id, rows in slots.items():
        states = {slot.status for slot in rows} & PROTECTED
        if states:
            names = ", ".join(sorted(_STATE_WORDS[s] for s in states))
            reasons[session_id] = f"it has {names} slots"
    start = datetime.combine(week_start, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    end = datetime.combine(week_end, datetime.min.time(), tzinfo=UTC) + timedelta(days=1)
    active = session.execute(select(Appointment.room_id, Appointment.start_at,
                                    Appointment.end_at).where(
        col(Appointment.state).in_(ACTIVE_STATES), col(Appointment.start_at) < end,
        col(Appointment.end_at) > start)).all()
    by_room: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for room_id, begins, ends in active:
        by_room[room_id].append((_utc(begins), _utc(ends)))
    for row in existing.values():
        for begins, ends in by_room.get(row.room_id, []):
            if any(_utc(s.start_at) < ends and begins < _utc(s.end_at)
                   for s in slots.get(row.id, [])):
                reasons[row.id] = "patients hold or have booked slots in it"
    return reasons


_STATE_WORDS = {SlotStatus.BUSY: "booked", SlotStatus.BUSY_TENTATIVE: "held",
                SlotStatus.BUSY_UNAVAILABLE: "blocked"}


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class SessionView:
    """One room-session as a day view shows it: template and how its slots stand."""

    room_id: str
    period: SessionPeriod
    template_id: str | None
    slots_by_status: dict[str, int]


def sessions_on(session: Session, site_id: str, day: date) -> list[SessionView]:
    """Open sessions at a site on a day, with slot counts per status."""
    rows = session.execute(
        select(DiarySession.id, DiarySession.room_id, DiarySession.period,
               DiarySession.template_id)
        .join(Slot, col(Slot.session_id) == DiarySession.id)
        .where(DiarySession.session_date == day, Slot.site_id == site_id,
               DiarySession.status == DiarySessionStatus.OPEN)
        .distinct()).all()
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    ids = [row[0] for row in rows]
    if ids:
        for session_id, status in session.execute(
                select(Slot.session_id, Slot.status).where(col(Slot.session_id).in_(ids))):
            counts[session_id][SlotStatus(status).value] += 1
    return [SessionView(room_id, SessionPeriod(period), template_id, dict(counts[session_id]))
            for session_id, room_id, period, template_id in rows]


def planned_sessions(session: Session, week_start: date,
                     room_sites: Mapping[str, str]) -> tuple[RoomSession, ...]:
    """The open sessions of a week as the optimiser's last-week input."""
    rows = session.scalars(select(DiarySession).where(
        col(DiarySession.session_date) >= week_start,
        col(DiarySession.session_date) < week_start + timedelta(days=7),
        DiarySession.status == DiarySessionStatus.OPEN))
    return tuple(RoomSession(row.room_id, room_sites[row.room_id], row.session_date, row.period,
                             row.template_id) for row in rows
                 if row.template_id and row.room_id in room_sites)

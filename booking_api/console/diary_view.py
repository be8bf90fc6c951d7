"""A site's diary as a clerk reads it: each room's sessions and slots for a day (free, held,
booked, blocked; for a held or booked slot only the exam, the patient's initials and the
request it is for: the minimum a clerk needs to find the booking), and a week in counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import DateTime, bindparam, select, type_coerce
from sqlmodel import col

from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.core.db import Database
from booking_api.core.errors import NotFound
from booking_api.network.models import ExamType, Room, Site
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from booking_api.slots.models import DiarySession, Slot
from domain.lifecycle import SlotStatus
from slot_rules.slot_request import LONDON

SHOWN = {SlotStatus.FREE: "free", SlotStatus.BUSY_TENTATIVE: "held",
         SlotStatus.BUSY: "booked", SlotStatus.BUSY_UNAVAILABLE: "blocked"}
"""Slot states a diary shows (withdrawn slots, entered-in-error, are left out)."""


@dataclass(frozen=True, slots=True)
class DiarySlot:
    slot_id: int
    start_at: datetime
    end_at: datetime
    status: str
    families: str
    exam_name: str | None = None
    initials: str | None = None
    request_id: int | None = None


@dataclass(frozen=True)
class RoomDay:
    room_id: str
    room_name: str
    modality: str
    sessions: tuple[str, ...]
    """'morning: CT-GEN-20' — each session's period and template."""
    slots: tuple[DiarySlot, ...]


@dataclass(frozen=True)
class SiteDay:
    site_id: str
    site_name: str
    day: date
    rooms: tuple[RoomDay, ...]


@dataclass(frozen=True)
class RoomWeek:
    room_id: str
    room_name: str
    modality: str
    days: tuple[dict[str, int], ...]
    """Per day: how many slots are free, held, booked, blocked."""


@dataclass(frozen=True)
class SiteWeek:
    site_id: str
    site_name: str
    monday: date
    days: tuple[date, ...]
    rooms: tuple[RoomWeek, ...]


def site_day(db: Database, site_id: str, day: date) -> SiteDay:
    """Every room of the site on one day (UK local), with its slots in time order.

    The busiest sites hold over a thousand slots a day, so the rows are read as plain
    tuples (Core statements built once, no ORM objects) in five statements whatever the
    size of the day, and each distinct time is converted once."""
    start, end = _utc_bounds(day, 1)
    with db.reading() as session:
        connection = session.connection()
        site_name = connection.scalar(_SITE_NAME, {"site_id": site_id})
        if site_name is None:
            raise NotFound("site", site_id, "site")
        rooms = connection.execute(_ROOMS, {"site_id": site_id}).all()
        sessions = defaultdict(list)
        for room_id, period, template in sorted(
                connection.execute(_DAY_SESSIONS, {"site_id": site_id, "day": day}),
                key=lambda row: row[1].start):  # in the day's order, not the codes'
            sessions[room_id].append(f"{period.value}: {template or 'no template'}")
        bounds = {"site_id": site_id, "start": start, "end": end}
        slots = connection.execute(_DAY_SLOTS, bounds).all()
        who = {slot_id: (exam, f"{given[:1]}. {family[:1]}.", request_id)
               for slot_id, exam, given, family, request_id
               in connection.execute(_DAY_OCCUPANTS, bounds)}
    moments: dict[datetime, datetime] = {}
    by_room: dict[str, list[DiarySlot]] = defaultdict(list)
    for slot_id, room_id, slot_start, slot_end, status, families in sorted(
            slots, key=lambda row: (row[1], row[2])):
        shown = SHOWN.get(status)
        if shown is None:
            continue
        exam, initials, request_id = who.get(slot_id, _NOBODY)
        by_room[room_id].append(DiarySlot(
            slot_id, _once(moments, slot_start), _once(moments, slot_end), shown,
            families.replace(";", ", "), exam, initials, request_id))
    return SiteDay(site_id, site_name, day, tuple(
        RoomDay(room_id, name, modality.value, tuple(sessions.get(room_id, ())),
                tuple(by_room.get(room_id, ())))
        for room_id, name, modality in rooms))


_NOBODY = (None, None, None)
_PLAIN_TIME = DateTime()
"""Slot times read without the model's timezone-aware type (a Python call per value on top
of the driver's own conversion): naive UTC on SQLite, aware on PostgreSQL; `_utc` fixes
both, once per distinct time."""
_SITE_NAME = select(Site.name).where(Site.site_id == bindparam("site_id"))
_ROOMS = (select(Room.room_id, Room.name, Room.modality)
          .where(Room.site_id == bindparam("site_id")).order_by(Room.name))
_DAY_SESSIONS = (select(DiarySession.room_id, DiarySession.period, DiarySession.template_id)
                 .join(Room, Room.room_id == DiarySession.room_id)
                 .where(Room.site_id == bindparam("site_id"),
                        DiarySession.session_date == bindparam("day")))
_DAY_SLOTS = (select(Slot.id, Slot.room_id, type_coerce(Slot.start_at, _PLAIN_TIME),
                     type_coerce(Slot.end_at, _PLAIN_TIME), Slot.status, Slot.families)
              .where(Slot.site_id == bindparam("site_id"),
                     Slot.start_at >= bindparam("start"), Slot.start_at < bindparam("end")))
_DAY_OCCUPANTS = (
    select(Appointment.slot_id, ExamType.name, Patient.given_name, Patient.family_name,
           Appointment.request_id)
    .join(Room, Room.room_id == Appointment.room_id)
    .join(Request, Request.id == Appointment.request_id)
    .join(ExamType, ExamType.code == Request.exam_code)
    .join(Patient, Patient.id == Appointment.patient_id)
    .where(Room.site_id == bindparam("site_id"), col(Appointment.state).in_(ACTIVE_STATES),
           Appointment.start_at >= bindparam("start"), Appointment.start_at < bindparam("end")))
"""Slot id → exam, patient's name (for initials) and request of the day's active
appointments."""


def _once(seen: dict[datetime, datetime], moment: datetime) -> datetime:
    converted = seen.get(moment)
    if converted is None:
        converted = seen[moment] = _utc(moment)
    return converted


def site_week(db: Database, site_id: str, monday: date) -> SiteWeek:
    """Counts of free, held, booked and blocked slots per room and day for a week."""
    start, end = _utc_bounds(monday, 7)
    days = tuple(monday + timedelta(days=n) for n in range(7))
    with db.reading() as session:
        site = session.get(Site, site_id)
        if site is None:
            raise NotFound("site", site_id, "site")
        rooms = session.execute(select(Room.room_id, Room.name, Room.modality).where(
            Room.site_id == site_id).order_by(Room.name)).all()
        rows = session.execute(select(Slot.room_id, Slot.start_at, Slot.status).where(
            Slot.site_id == site_id, Slot.start_at >= start, Slot.start_at < end)).all()
    counts: dict[tuple[str, date], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(SHOWN.values(), 0))
    for room_id, slot_start, status in rows:
        if status in SHOWN:
            counts[(room_id, _utc(slot_start).astimezone(LONDON).date())][SHOWN[status]] += 1
    return SiteWeek(site_id, site.name, monday, days, tuple(
        RoomWeek(room_id, name, modality.value,
                 tuple(dict(counts.get((room_id, d), dict.fromkeys(SHOWN.values(), 0)))
                       for d in days))
        for room_id, name, modality in rooms))


def site_names(db: Database) -> tuple[tuple[str, str], ...]:
    with db.reading() as session:
        return tuple((s, n) for s, n in session.execute(
            select(Site.site_id, Site.name).order_by(Site.name)))


def _utc_bounds(day: date, days: int) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=days), time(0), tzinfo=LONDON).astimezone(UTC)
    return start, end


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)



@dataclass(frozen=True)
class SlotLine:
    slot_id: int
    site_id: str
    site_name: str
    room_name: str
    start_at: datetime
    end_at: datetime
    status: str


def slot_line(db: Database, slot_id: int) -> SlotLine:
    """One slot's place and time (NotFound when there is none)."""
    with db.reading() as session:
        row = session.execute(
            select(Slot.id, Slot.site_id, Site.name, Room.name, Slot.start_at, Slot.end_at,
                   Slot.status)
            .join(Room, Room.room_id == Slot.room_id).join(Site, Site.site_id == Slot.site_id)
            .where(Slot.id == slot_id)).first()
    if row is None:
        raise NotFound("slot", slot_id, "slot_id")
    return SlotLine(row[0], row[1], row[2], row[3], _utc(row[4]), _utc(row[5]),
                    SHOWN.get(row[6], row[6].value))

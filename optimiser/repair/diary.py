"""The current plan indexed for the repair: sessions by room and time, slot patterns in local
time (as the booking service lays them out), and each booking located on its run of slots.
Refuses a plan or booking that does not hang together, naming the field."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import NamedTuple

from domain.network import Room, Site
from domain.session_templates import SessionTemplate
from domain.vocabulary import Modality, SessionPeriod
from optimiser.problem import PERIODS
from optimiser.repair.problem import Booking, RepairInputError, RepairProblem
from slot_rules.slot_request import LONDON

SessionKey = tuple[str, date, SessionPeriod]
"""room id, date, period: one room-session."""


class Run(NamedTuple):
    """Consecutive slots of one session: where a booking sits or could sit."""

    key: SessionKey
    first: int
    count: int

    def slots(self) -> range:
        return range(self.first, self.first + self.count)


def session_start(day: date, period: SessionPeriod) -> datetime:
    return datetime.combine(day, period.start, tzinfo=LONDON)


def slot_start(template: SessionTemplate, day: date, period: SessionPeriod,
               index: int) -> datetime:
    return session_start(day, period) + timedelta(minutes=index * template.slot_minutes)


def slot_families(template: SessionTemplate) -> list:
    """The family of each slot of a session, in the order the pattern lays them out."""
    return [family for family, count in template.capacity for _ in range(count)]


def slots_needed(template: SessionTemplate, duration_min: int) -> int:
    return math.ceil(duration_min / template.slot_minutes)


def room_can_run(room: Room, template: SessionTemplate) -> bool:
    return (template.modality is room.modality
            and template.required_capabilities <= room.capabilities)


_BOUNDS = tuple((p.start, p.end, p) for p in PERIODS)


def period_at(moment: datetime) -> tuple[date, SessionPeriod] | None:
    local = moment.astimezone(LONDON)
    clock = local.time()
    for start, end, period in _BOUNDS:
        if start <= clock < end:
            return local.date(), period
    return None


class Diary:
    """The plan of the given sessions and where every booking sits in it, for the days from
    `first_day` to `last_day` at the given sites (bookings: in rooms of the given modalities).
    Sessions and bookings outside are neither read nor checked: the repair cannot touch them."""

    def __init__(self, problem: RepairProblem, first_day: date = date.min,
                 last_day: date = date.max, sites: set[str] | None = None,
                 modalities: set[Modality] | None = None) -> None:
        self.problem = problem
        self.first_day, self.last_day = first_day, last_day
        self.templates = problem.templates
        self.rooms: dict[str, Room] = {room.room_id: room for room in problem.network.rooms}
        self.read_rooms = {r for r, room in self.rooms.items()
                           if sites is None or room.site_id in sites}
        self.booked_rooms = {r for r in self.read_rooms
                             if modalities is None or self.rooms[r].modality in modalities}
        self._shape = {t.template_id: (t.total_slots, t.slot_minutes)
                       for t in problem.templates.values()}
        self._starts: dict[tuple[date, SessionPeriod], datetime] = {}
        self._from = datetime.combine(max(first_day, date.min + timedelta(days=1)),
                                      datetime.min.time(), tzinfo=LONDON)
        self._to = datetime.combine(min(last_day, date.max - timedelta(days=1))
                                    + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)
        self.sites: dict[str, Site] = dict(problem.network.site_by_id)
        self.plan: dict[SessionKey, str] = self._index_sessions()
        self.lists_at: dict[tuple[str, date, SessionPeriod], list[SessionKey]] = defaultdict(list)
        for key in self.plan:
            self.lists_at[(self.site_of(key[0]), key[1], key[2])].append(key)
        self.runs: dict[int, Run] = {}
        self.bookings: dict[int, Booking] = {}
        self.booked_in: dict[SessionKey, list[int]] = defaultdict(list)
        self.blocked: dict[SessionKey, set[int]] = defaultdict(set)
        self._locate_bookings()
        self._locate_blocked()

    def site_of(self, room_id: str) -> str:
        return self.rooms[room_id].site_id

    def run_start(self, run: Run, template_id: str) -> tuple[datetime, datetime]:
        template = self.templates[template_id]
        _, day, period = run.key
        start = slot_start(template, day, period, run.first)
        return start, start + timedelta(minutes=run.count * template.slot_minutes)

    def _index_sessions(self) -> dict[SessionKey, str]:
        plan: dict[SessionKey, str] = {}
        for i, s in enumerate(self.problem.sessions):
            if s.room_id in self.rooms and not self._reads(s.room_id, s.date):
                continue
            where = f"sessions[{i}]"
            room = self.rooms.get(s.room_id)
            if room is None:
                raise RepairInputError(f"{where}.room_id", f"no room '{s.room_id}' in the network")
            if s.site_id != room.site_id:
                raise RepairInputError(f"{where}.site_id", f"room {s.room_id} is at "
                                       f"{room.site_id}, not {s.site_id}")
            if s.template_id not in self.templates:
                raise RepairInputError(f"{where}.template_id",
                                       f"no session template '{s.template_id}'")
            key = (s.room_id, s.date, s.period)
            if key in plan:
                raise RepairInputError(where, f"a second session for {s.room_id} on {s.date} "
                                       f"{s.period}")
            plan[key] = s.template_id
        return plan

    def _locate_bookings(self) -> None:
        taken: dict[tuple[SessionKey, int], int] = {}
        for i, booking in enumerate(self.problem.bookings):
            if not self._in_window(booking.room_id, booking.start, self.booked_rooms):
                continue
            where = f"bookings[{i}]"
            if booking.appointment_id in self.bookings:
                raise RepairInputError(f"{where}.appointment_id", f"appointment "
                                       f"{booking.appointment_id} is listed twice")
            run = self._locate(where, booking.room_id, booking.start,
                               booking.request.duration_min)
            for slot in run.slots():
                other = taken.get((run.key, slot))
                if other is not None:
                    raise RepairInputError(f"{where}.start", f"overlaps appointment {other} in "
                                           f"{booking.room_id}")
                taken[(run.key, slot)] = booking.appointment_id
            self.bookings[booking.appointment_id] = booking
            self.runs[booking.appointment_id] = run
            self.booked_in[run.key].append(booking.appointment_id)

    def _locate_blocked(self) -> None:
        for i, blocked in enumerate(self.problem.blocked_slots):
            if not self._in_window(blocked.room_id, blocked.start, self.booked_rooms):
                continue
            run = self._locate(f"blocked_slots[{i}]", blocked.room_id, blocked.start, 1)
            self.blocked[run.key].add(run.first)

    def _reads(self, room_id: str, day: date) -> bool:
        return room_id in self.read_rooms and self.first_day <= day <= self.last_day

    def _in_window(self, room_id: str, moment: datetime, rooms: set[str]) -> bool:
        if room_id not in self.rooms or moment.tzinfo is None:
            return True  # refused by _locate, naming the field
        return room_id in rooms and self._from <= moment < self._to

    def _locate(self, where: str, room_id: str, start: datetime, duration_min: int) -> Run:
        if room_id not in self.rooms:
            raise RepairInputError(f"{where}.room_id", f"no room '{room_id}' in the network")
        if start.tzinfo is None:
            raise RepairInputError(f"{where}.start", "must carry a time zone")
        found = period_at(start)
        key = None if found is None else (room_id, *found)
        if key is None or key not in self.plan:
            raise RepairInputError(f"{where}.start", f"no session of {room_id} in the plan at "
                                   f"{start.isoformat()}")
        template_id = self.plan[key]
        total, minutes = self._shape[template_id]
        begins = self._starts.get(key[1:])
        if begins is None:
            begins = self._starts[key[1:]] = session_start(key[1], key[2])
        first, remainder = divmod((start - begins).total_seconds() / 60, minutes)
        if remainder:
            raise RepairInputError(f"{where}.start", f"{start.isoformat()} is not the start of "
                                   f"a slot of {template_id}")
        count = -(-duration_min // minutes)
        if first + count > total:
            raise RepairInputError(f"{where}.start", f"the exam runs past the end of the "
                                   f"{key[2]} session")
        return Run(key, int(first), count)

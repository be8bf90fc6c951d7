"""Tiny diaries to repair: a few CT rooms at two sites, lists of four slots, a handful of
patients; small enough to work out (or enumerate) the best repair."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from domain.network import Network
from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffAvailability
from domain.vocabulary import ExamFamily, Modality, Priority, SessionPeriod, StaffRole
from optimiser.problem import RoomSession
from optimiser.repair import Booking, Disruption, RepairProblem
from optimiser.repair.diary import slot_start
from slot_rules.slot_request import LONDON, SlotRequest
from tests.optimiser.conftest import ALL_PERIODS, LONG_HOURS, network, room, site, staff

MONDAY = date(2027, 3, 1)
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)
NOW = datetime(2027, 3, 1, 7, 0, tzinfo=LONDON)
"""Monday 07:00, before any list of the week starts."""
MORNING, AFTERNOON, EVENING = SessionPeriod.MORNING, SessionPeriod.AFTERNOON, SessionPeriod.EVENING

CT_FOUR = SessionTemplate(
    "CT_FOUR", "CT, four slots", Modality.CT, ((ExamFamily.CT_PLAIN, 4),), 15, frozenset(),
    StaffRole.RADIOGRAPHER, 2, False, 0, ALL_PERIODS)
CT_SPLIT = SessionTemplate(
    "CT_SPLIT", "CT, plain then contrast", Modality.CT,
    ((ExamFamily.CT_PLAIN, 2), (ExamFamily.CT_CONTRAST, 2)), 20, frozenset(),
    StaffRole.RADIOGRAPHER, 2, False, 0, ALL_PERIODS)
TEMPLATES = {t.template_id: t for t in (CT_FOUR, CT_SPLIT)}


def ct_network(headcount: tuple[int, int] = (4, 2), near_km: float = 5.0,
               evenings: bool = False, rooms_at_s1: int = 2) -> Network:
    """S1 (rooms S1-CT1, S1-CT2) and S2 (S2-CT1), `near_km` apart, open 08:00–21:30 every day;
    one radiographer group per site."""
    lat2 = 52.0 + near_km / 111.2
    return network(
        [site("S1", 52.0, -2.0, LONG_HOURS), site("S2", lat2, -2.0, LONG_HOURS)],
        [room(f"S1-CT{i}", "S1", Modality.CT) for i in range(1, rooms_at_s1 + 1)]
        + [room("S2-CT1", "S2", Modality.CT)],
        [staff("G1", "S1", skills=("CT",), headcount=headcount[0], sessions=100,
               evenings=evenings, weekends=True),
         staff("G2", "S2", skills=("CT",), headcount=headcount[1], sessions=100,
               evenings=evenings, weekends=True)],
        [])


def session(room_id: str, day: date, period: SessionPeriod = MORNING,
            template: SessionTemplate = CT_FOUR) -> RoomSession:
    return RoomSession(room_id, room_id[:2], day, period, template.template_id)


def request(duration: int = 15, family: ExamFamily = ExamFamily.CT_PLAIN,
            priority: Priority = Priority.ROUTINE, **facts) -> SlotRequest:
    facts.setdefault("home_lat", 52.0)
    facts.setdefault("home_lon", -2.0)
    return SlotRequest(Modality.CT, family, duration, priority=priority, **facts)


@dataclass
class Diary:
    """A tiny diary being written: sessions, then patients in their slots."""

    net: Network = field(default_factory=ct_network)

    @classmethod
    def one_room_at_s1(cls, **network) -> Diary:
        """No spare room at S1 for the crew of a list that stops to move to."""
        return cls(net=ct_network(rooms_at_s1=1, **network))
    sessions: list[RoomSession] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)

    def add(self, room_id: str, day: date, period: SessionPeriod = MORNING,
            template: SessionTemplate = CT_FOUR) -> Diary:
        self.sessions.append(session(room_id, day, period, template))
        return self

    def book(self, room_id: str, day: date, slot: int, slot_request: SlotRequest | None = None,
             period: SessionPeriod = MORNING, **booking) -> int:
        template = next(TEMPLATES[s.template_id] for s in self.sessions
                        if (s.room_id, s.date, s.period) == (room_id, day, period))
        number = len(self.bookings) + 1
        self.bookings.append(Booking(
            number, 100 + number, 200 + number, room_id,
            slot_start(template, day, period, slot), slot_request or request(), **booking))
        return number

    def rota_for_lists_only(self) -> tuple[StaffAvailability, ...]:
        """Staff rostered exactly for the lists in the diary, no one else: no list can open."""
        crews: dict[tuple, int] = {}
        for s in self.sessions:
            key = (s.site_id, s.date, s.period)
            crews[key] = crews.get(key, 0) + TEMPLATES[s.template_id].crew_per_room
        rows = []
        for group in self.net.staff_groups:
            for day in (MONDAY + timedelta(days=d) for d in range(7)):
                for period in SessionPeriod:
                    people = min(group.headcount, crews.get((group.site_id, day, period), 0))
                    rows.append(StaffAvailability(group.site_id, group.staff_group_id, day,
                                                  period, people, 0))
        return tuple(rows)

    def problem(self, *disruptions: Disruption, **options) -> RepairProblem:
        options.setdefault("now", NOW)
        return RepairProblem(self.net, TEMPLATES, tuple(self.sessions), tuple(self.bookings),
                             tuple(disruptions), **options)


def with_request(booking: Booking, **facts) -> Booking:
    return replace(booking, request=replace(booking.request, **facts))

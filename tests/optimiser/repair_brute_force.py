"""The best repair of a tiny diary by exhaustive search, sharing nothing with the optimiser but
the data classes: every choice of list for every room-session, then every placement of every
patient (stay, any free run of slots the reference slot-rules engine accepts, or unplaced),
pruned only by the best disruption found so far. Staff: one group per site with every skill, so
covering lists is a plain count."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.geography import haversine_km
from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffCalendar
from domain.vocabulary import SessionPeriod
from optimiser.repair import RepairProblem, RoomDown, SessionCancelled
from slot_rules.eligibility_scalar import SlotRecord, eligible_one_by_one
from slot_rules.loading import shipped_slot_eligibility
from slot_rules.slot_request import LONDON
from slot_rules.slot_table import FAMILY_BIT, MODALITY_CODE, capability_mask, epoch_minutes

EXCESS = 3


@dataclass(frozen=True)
class Best:
    disruption: int
    changed: int


def brute_force(problem: RepairProblem, days: list[date], radius_km: float) -> Best:
    """Lists only in mornings of `days` (the rota gives no one else); sites within the
    radius of the disrupted room's site."""
    world = _World(problem, days, radius_km)
    best = Best(math.inf, math.inf)
    for choice in itertools.product(*world.options):
        if not world.staffed(choice):
            continue
        changed = sum(c != cur for c, cur in zip(choice, world.current, strict=True))
        if (world.floor, changed) >= (best.disruption, best.changed):
            continue
        disruption = world.place(dict(zip(world.keys, choice, strict=True)), best, changed)
        if (disruption, changed) < (best.disruption, best.changed):
            best = Best(disruption, changed)
    return best


class _World:
    def __init__(self, problem: RepairProblem, days: list[date], radius_km: float) -> None:
        self.problem = problem
        self.templates = problem.templates
        self.rooms = {r.room_id: r for r in problem.network.rooms}
        sites = problem.network.site_by_id
        down = problem.disruptions[0]
        centre = sites[self.rooms[down.room_id].site_id]
        near = {s for s, site in sites.items()
                if haversine_km(site.lat, site.lon, centre.lat, centre.lon) <= radius_km}
        plan = {(s.room_id, s.date): s.template_id for s in problem.sessions}
        gone = {(down.room_id, _day(down))}
        self.keys = [(r, d) for r in sorted(self.rooms) for d in days
                     if self.rooms[r].site_id in near and (r, d) not in gone]
        self.current = [plan.get(k) for k in self.keys]
        self.options = [sorted({plan.get(k), None, *self.templates}, key=str) for k in self.keys]
        calendar = StaffCalendar(problem.network.staff_groups, problem.staff_availability)
        self.staff = {(g.site_id, d): calendar.available(g.staff_group_id, d,
                                                          SessionPeriod.MORNING)
                      for g in problem.network.staff_groups for d in days}
        where = {b.appointment_id: (b.room_id, b.start.astimezone(LONDON).date())
                 for b in problem.bookings}
        self.patients = [b for b in problem.bookings if where[b.appointment_id] in gone
                         or where[b.appointment_id] in self.keys]
        self.forced = {b.appointment_id for b in self.patients if where[b.appointment_id] in gone}
        self.home = where
        self.plan = plan
        self.floor = 0

    def staffed(self, choice) -> bool:
        crew: dict[tuple, int] = {}
        for (room_id, day), template_id in zip(self.keys, choice, strict=True):
            if template_id is not None:
                key = (self.rooms[room_id].site_id, day)
                crew[key] = crew.get(key, 0) + self.templates[template_id].crew_per_room
        return all(n <= self.staff.get(key, 0) for key, n in crew.items())

    def place(self, lists: dict, best: Best, changed: int) -> float:
        runs = {b.appointment_id: self._runs(b, lists) for b in self.patients}
        order = sorted(self.patients, key=lambda b: (b.appointment_id not in self.forced,
                                                     b.appointment_id))
        found = [math.inf]

        def search(i: int, taken: set, disruption: int) -> None:
            if (disruption, changed) >= (min(found[0], best.disruption), best.changed):
                return
            if i == len(order):
                found[0] = disruption
                return
            booking = order[i]
            a = booking.appointment_id
            if a not in self.forced and lists[self.home[a]] == self.plan.get(self.home[a]):
                own = self._own(booking)
                if not own & taken:
                    search(i + 1, taken | own, disruption)
            extra = 0 if a in self.forced else EXCESS
            for run in runs[a]:
                if not run & taken and run != self._own(booking):
                    search(i + 1, taken | run, disruption + extra)
            search(i + 1, taken, disruption + booking.priority.weight + extra)

        search(0, set(), 0)
        return found[0]

    def _own(self, booking) -> frozenset:
        key = self.home[booking.appointment_id]
        template = self.templates[self.plan[key]]
        first = _slot_of(template, key[1], booking.start)
        count = math.ceil(booking.request.duration_min / template.slot_minutes)
        return frozenset((key, self.plan[key], first + k) for k in range(count))

    def _runs(self, booking, lists: dict) -> list[frozenset]:
        found = []
        for key, template_id in lists.items():
            if template_id is None:
                continue
            template = self.templates[template_id]
            count = math.ceil(booking.request.duration_min / template.slot_minutes)
            for first in range(template.total_slots - count + 1):
                if self._eligible(booking, key, template, first, count):
                    found.append(frozenset((key, template_id, first + k)
                                           for k in range(count)))
        return found

    def _eligible(self, booking, key, template: SessionTemplate, first: int,
                  count: int) -> bool:
        room = self.rooms[key[0]]
        site = self.problem.network.site_by_id[room.site_id]
        family = [f for f, n in template.capacity for _ in range(n)][first]
        start = datetime.combine(key[1], SessionPeriod.MORNING.start, tzinfo=LONDON)
        record = SlotRecord(
            start_min=epoch_minutes(start) + first * template.slot_minutes,
            length_min=template.slot_minutes, site=0, site_id=site.site_id, room=0,
            modality=MODALITY_CODE[room.modality],
            room_capabilities=capability_mask(room.capabilities),
            room_max_weight_kg=room.max_weight_kg, template_families=FAMILY_BIT[family],
            radiologist_present=template.radiologist_required,
            free_run_min=count * template.slot_minutes, site_lat=site.lat, site_lon=site.lon,
            step_free=site.step_free, hoist=site.hoist)
        return eligible_one_by_one(shipped_slot_eligibility(), [record], booking.request,
                                   self.problem.now)[0]


def _day(disruption) -> date:
    return disruption.first_day if isinstance(disruption, RoomDown) else disruption.day


def _slot_of(template: SessionTemplate, day: date, start: datetime) -> int:
    begins = datetime.combine(day, SessionPeriod.MORNING.start, tzinfo=LONDON)
    return int((start - begins) / timedelta(minutes=template.slot_minutes))


__all__ = ["Best", "SessionCancelled", "brute_force"]

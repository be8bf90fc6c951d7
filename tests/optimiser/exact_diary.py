"""An exact model of the diary objective, written from the problem statement alone (no code of
`optimiser` beyond its data classes): one binary per room × session × template, people per
staff group × session × requirement, whole exams per area × family × site, solved to optimality
by HiGHS's MIP solver. Only for tiny instances; the yardstick the property tests hold the diary
builder's plans and bound against. Also scores a returned DiaryPlan from its own rows."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from domain.geography import haversine_km
from domain.network_check import CLINICAL_SKILLS
from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffCalendar
from domain.vocabulary import AgeBand, Modality, Priority, SessionPeriod, StaffRole
from optimiser.problem import DiaryPlan, DiaryProblem

PERIODS = (SessionPeriod.MORNING, SessionPeriod.AFTERNOON, SessionPeriod.EVENING)


@dataclass(frozen=True)
class ExactResult:
    objective: float
    status: str


def requirement(template: SessionTemplate, role: StaffRole) -> tuple[StaffRole, frozenset[str]]:
    """The people a template asks for: a role with the modality and clinical skills."""
    skills = {template.modality.value} | {c.value for c in template.required_capabilities
                                          & CLINICAL_SKILLS}
    return role, frozenset(skills)


def people_per_room(template: SessionTemplate) -> dict[tuple, float]:
    """Requirement → people one room of the template takes (a radiologist's share as 1/r)."""
    need: dict[tuple, float] = defaultdict(float)
    need[requirement(template, template.crew_role)] += template.crew_per_room
    if template.radiologist_required:
        need[requirement(template, StaffRole.RADIOLOGIST)] += 1 / template.rooms_per_radiologist
    return need


def offpeak_points(problem: DiaryProblem, day: date, period: SessionPeriod,
                   template: SessionTemplate) -> float:
    w = problem.weights
    per_slot = (w.weekend_per_slot if day.weekday() >= 5 else 0.0) + (
        w.evening_per_slot if period is SessionPeriod.EVENING else 0.0)
    return per_slot * template.total_slots


class _Sessions:
    """Which room × session × template may run at all, and the staff it could draw on."""

    def __init__(self, problem: DiaryProblem) -> None:
        self.problem = problem
        self.days = [problem.week_start + timedelta(days=d) for d in range(7)]
        self.calendar = StaffCalendar(problem.network.staff_groups, problem.staff_availability)
        self.sites = {s.site_id: s for s in problem.network.sites}

    def open_for(self, site_id: str, day: date, period: SessionPeriod) -> bool:
        hours = self.sites[site_id].hours_on(day.weekday())
        return hours.is_open and hours.opens <= period.start and hours.closes >= period.end

    def groups_for(self, site_id: str, req: tuple, day: date, period: SessionPeriod) -> list:
        role, skills = req
        return [g for g in self.problem.network.staff_groups
                if g.site_id == site_id and g.role is role and skills <= g.skills
                and self.calendar.available(g.staff_group_id, day, period) > 0]

    def runnable(self, room, template: SessionTemplate, day: date, period: SessionPeriod) -> bool:
        return (template.modality is room.modality
                and template.required_capabilities <= room.capabilities
                and period in template.periods and self.open_for(room.site_id, day, period)
                and all(self.groups_for(room.site_id, req, day, period)
                        for req in people_per_room(template)))


class _Columns:
    def __init__(self) -> None:
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.integral: list[int] = []

    def add(self, cost: float, upper: float, integral: bool = True) -> int:
        self.cost.append(cost)
        self.upper.append(upper)
        self.integral.append(int(integral))
        return len(self.cost) - 1


class _Rows:
    def __init__(self) -> None:
        self.entries: list[tuple[int, int, float]] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, terms: dict[int, float], lower: float, upper: float) -> None:
        row = len(self.lower)
        self.entries += [(row, col, value) for col, value in terms.items()]
        self.lower.append(lower)
        self.upper.append(upper)


def exact_optimum(problem: DiaryProblem, time_limit_s: float = 60.0) -> ExactResult:
    """The least objective any plan of the problem can have (demand given in whole exams)."""
    model = _ExactModel(problem)
    return model.solve(time_limit_s)


class _ExactModel:
    def __init__(self, problem: DiaryProblem) -> None:
        self.problem, self.space = problem, _Sessions(problem)
        self.cols, self.rows = _Columns(), _Rows()
        self.w = problem.weights
        self.y: dict[tuple, int] = {}
        self._sessions()
        self._staff()
        self._demand()
        self._changes()

    def _sessions(self) -> None:
        templates = sorted(self.problem.templates.values(), key=lambda t: t.template_id)
        for room in self.problem.network.rooms:
            for day in self.space.days:
                for period in PERIODS:
                    here = []
                    for template in templates:
                        if self.space.runnable(room, template, day, period):
                            key = (room.room_id, day, period, template.template_id)
                            cost = offpeak_points(self.problem, day, period, template)
                            self.y[key] = self.cols.add(cost, 1)
                            here.append(self.y[key])
                    if len(here) > 1:
                        self.rows.add(dict.fromkeys(here, 1.0), 0, 1)

    def _staff(self) -> None:
        p, space = self.problem, self.space
        rooms = {r.room_id: r for r in p.network.rooms}
        wanted: dict[tuple, dict[int, float]] = defaultdict(dict)
        for (room_id, day, period, template_id), col in self.y.items():
            site_id = rooms[room_id].site_id
            for req, people in people_per_room(p.templates[template_id]).items():
                wanted[(site_id, day, period, req)][col] = people
        per_group_session: dict[tuple, dict[int, float]] = defaultdict(dict)
        per_group: dict[str, dict[int, float]] = defaultdict(dict)
        per_group_day: dict[str, dict[int, float]] = defaultdict(dict)
        for (site_id, day, period, req), terms in wanted.items():
            staffed = dict(terms)
            for g in space.groups_for(site_id, req, day, period):
                free = space.calendar.available(g.staff_group_id, day, period)
                col = self.cols.add(0.0, free)
                staffed[col] = -1.0
                per_group_session[(g.staff_group_id, day, period)][col] = 1.0
                per_group[g.staff_group_id][col] = 1.0
                if day.weekday() < 5 and period is not SessionPeriod.EVENING:
                    per_group_day[g.staff_group_id][col] = 1.0
            self.rows.add(staffed, -np.inf, 0.0)
        groups = {g.staff_group_id: g for g in p.network.staff_groups}
        for (group_id, day, period), terms in per_group_session.items():
            self.rows.add(terms, -np.inf, space.calendar.available(group_id, day, period))
        for group_id, terms in per_group_day.items():
            self.rows.add(terms, -np.inf, groups[group_id].sessions_per_week)
        for group_id, terms in per_group.items():
            contracted = groups[group_id].sessions_per_week
            extra = math.floor(contracted * p.overtime_share + 1e-9)
            self.rows.add(terms, -np.inf, contracted + extra)
            overtime = self.cols.add(self.w.overtime_per_staff_session, extra)
            self.rows.add({**terms, overtime: -1.0}, -np.inf, contracted)

    def _demand(self) -> None:
        p = self.problem
        rooms = {r.room_id: r for r in p.network.rooms}
        capacity: dict[tuple, dict[int, float]] = defaultdict(dict)
        for (room_id, _, _, template_id), col in self.y.items():
            for family, count in p.templates[template_id].capacity:
                key = (rooms[room_id].site_id, family)
                capacity[key][col] = capacity[key].get(col, 0.0) + count
        counts = whole_demand(p)
        booked: dict[tuple, dict[int, float]] = defaultdict(dict)
        backlog: dict[tuple[Modality, str], dict[int, float]] = defaultdict(dict)
        homed: dict[tuple[Modality, str], float] = defaultdict(float)
        for (family, area_id, band), by_priority in counts.items():
            area = p.network.area_by_id[area_id]
            cell = {}
            for site in p.network.sites:
                km = haversine_km(area.lat, area.lon, site.lat, site.lon)
                if (km <= p.travel_limit_km and (site.site_id, family) in capacity
                        and _admits(site, band)):
                    col = self.cols.add(km * self.w.travel_per_km, sum(by_priority.values()))
                    cell[col] = 1.0
                    booked[(site.site_id, family)][col] = 1.0
            home = home_site(p, area, family, band, set(capacity))
            for priority, count in by_priority.items():
                col = self.cols.add(self.w.unmet_per_exam * priority.weight, count)
                cell[col] = 1.0
                if home is not None:
                    backlog[(family.modality, home)][col] = 1.0
            if home is not None:
                homed[(family.modality, home)] += sum(by_priority.values())
            total = sum(by_priority.values())
            self.rows.add(cell, total, total)
        for key, terms in booked.items():
            self.rows.add({**terms, **{c: -v for c, v in capacity[key].items()}}, -np.inf, 0)
        longest = {m: self.cols.add(self.w.imbalance_per_unit, np.inf, integral=False)
                   for m in Modality}
        for (modality, home), terms in backlog.items():
            share = {c: 1.0 / homed[(modality, home)] for c in terms}
            self.rows.add({**share, longest[modality]: -1.0}, -np.inf, 0.0)

    def _changes(self) -> None:
        """A room-session changes when it runs another template than last week, or opens or
        closes; each change costs `change_per_room_session`."""
        p = self.problem
        if not p.last_week:
            return
        last = {(s.room_id, s.date.weekday(), s.period): s.template_id for s in p.last_week}
        for room in p.network.rooms:
            for day in self.space.days:
                for period in PERIODS:
                    ran = last.get((room.room_id, day.weekday(), period))
                    here = {key: col for key, col in self.y.items()
                            if key[:3] == (room.room_id, day, period)}
                    if ran is None:
                        for col in here.values():
                            self.cols.cost[col] += self.w.change_per_room_session
                        continue
                    same = [col for key, col in here.items() if key[3] == ran]
                    changed = self.cols.add(self.w.change_per_room_session, 1)
                    self.rows.add({changed: 1.0, **dict.fromkeys(same, 1.0)}, 1.0, np.inf)

    def solve(self, time_limit_s: float) -> ExactResult:
        n = len(self.cols.cost)
        rows, cols, values = zip(*self.rows.entries, strict=True) if self.rows.entries else (
            (), (), ())
        matrix = sparse.csr_matrix((values, (rows, cols)), shape=(len(self.rows.lower), n))
        result = milp(np.array(self.cols.cost), integrality=np.array(self.cols.integral),
                      bounds=Bounds(np.zeros(n), np.array(self.cols.upper)),
                      constraints=[LinearConstraint(matrix, self.rows.lower, self.rows.upper)],
                      options={"time_limit": time_limit_s, "mip_rel_gap": 0.0})
        if result.status != 0:
            raise RuntimeError(f"the exact model did not solve to optimality: {result.message}")
        return ExactResult(float(result.fun), "optimal")


def whole_demand(problem: DiaryProblem) -> dict[tuple, dict[Priority, int]]:
    """Demand rows as whole exams; the tests give whole counts, so nothing is rounded."""
    counts: dict[tuple, dict[Priority, int]] = defaultdict(lambda: defaultdict(int))
    for row in problem.demand:
        if row.expected_count != int(row.expected_count):
            raise ValueError("the exact model takes whole expected counts only")
        if row.expected_count:
            counts[(row.family, row.area_id, row.age_band)][row.priority] += int(
                row.expected_count)
    return counts


def plan_objective(problem: DiaryProblem, plan: DiaryPlan) -> float:
    """A returned plan's objective, recomputed from its rows (sessions, rosters, bookings,
    unmet demand) the way the exact model counts it."""
    w = problem.weights
    unmet = sum(u.count * u.priority.weight * w.unmet_per_exam for u in plan.unmet)
    travel = sum(a.count * a.distance_km * w.travel_per_km for a in plan.allocations)
    offpeak = sum(offpeak_points(problem, s.date, s.period, problem.templates[s.template_id])
                  for s in plan.sessions)
    worked: dict[str, int] = defaultdict(int)
    for use in plan.staff_use:
        worked[use.staff_group_id] += use.people
    groups = {g.staff_group_id: g for g in problem.network.staff_groups}
    overtime = sum(max(0, people - groups[g].sessions_per_week) for g, people in worked.items())
    return (unmet + travel + offpeak + overtime * w.overtime_per_staff_session
            + _plan_imbalance(problem, plan) + _plan_changes(problem, plan))


def _admits(site, band: AgeBand) -> bool:
    """Adults never go to a site with an age limit; children (under 16) where it is 16+."""
    limit = site.age_limit_years
    return limit is None or (band is AgeBand.CHILD and limit >= 16)


def home_site(problem: DiaryProblem, area, family, band: AgeBand,
              able: set[tuple]) -> str | None:
    """Where an area's backlog of a family waits: the nearest site able to do it at all that
    takes the patients' age band."""
    sites = [s for s in problem.network.sites
             if (s.site_id, family) in able and _admits(s, band)]
    if not sites:
        return None
    return min(sites, key=lambda s: haversine_km(area.lat, area.lon, s.lat, s.lon)).site_id


def _plan_imbalance(problem: DiaryProblem, plan: DiaryPlan) -> float:
    """Per modality, the longest backlog at a home site as a share of the demand homed there."""
    space = _Sessions(problem)
    rooms = {r.room_id: r for r in problem.network.rooms}
    able = {(room.site_id, family)
            for room in rooms.values() for day in space.days for period in PERIODS
            for template in problem.templates.values()
            if space.runnable(room, template, day, period)
            for family, _ in template.capacity}
    areas = problem.network.area_by_id
    homed: dict[tuple, float] = defaultdict(float)
    home_of = {}
    for (family, area_id, band), by_priority in whole_demand(problem).items():
        home = home_site(problem, areas[area_id], family, band, able)
        home_of[(family, area_id, band)] = home
        if home is not None:
            homed[(family.modality, home)] += sum(by_priority.values())
    backlog: dict[tuple, float] = defaultdict(float)
    for u in plan.unmet:
        home = home_of.get((u.family, u.area_id, u.age_band))
        if home is not None:
            backlog[(u.family.modality, home)] += u.count
    longest: dict[Modality, float] = defaultdict(float)
    for (modality, home), count in backlog.items():
        longest[modality] = max(longest[modality], count / homed[(modality, home)])
    return problem.weights.imbalance_per_unit * sum(longest.values())


def _plan_changes(problem: DiaryProblem, plan: DiaryPlan) -> float:
    if not problem.last_week:
        return 0.0
    last = {(s.room_id, s.date.weekday(), s.period): s.template_id for s in problem.last_week}
    now = {(s.room_id, s.date.weekday(), s.period): s.template_id for s in plan.sessions}
    changed = sum(1 for key in set(last) | set(now) if last.get(key) != now.get(key))
    return changed * problem.weights.change_per_room_session

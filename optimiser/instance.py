"""The diary problem compiled into indexed arrays that every solver stage shares: room classes
(identical rooms pooled), options (class × template × session), staff needs and the staff flows
that can cover them. Builds nothing else; demand lives in `demand_cells`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from domain.network import Room, Site, StaffGroup
from domain.network_check import CLINICAL_SKILLS
from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffCalendar
from domain.vocabulary import Capability, Modality, SessionPeriod, StaffRole
from optimiser.demand_cells import DemandCells, compile_demand
from optimiser.diagnosis import check_input, unusable_templates
from optimiser.last_week import LastWeek, compile_last_week
from optimiser.problem import DAYS_PER_WEEK, PERIODS, DiaryProblem, Weights

MODALITIES = (Modality.XR, Modality.US, Modality.CT, Modality.MR)


@dataclass(frozen=True)
class RoomClass:
    """Identical rooms of one site: same modality and capabilities, so they can be pooled."""

    site: int
    modality: Modality
    capabilities: frozenset[Capability]
    room_ids: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.room_ids)


@dataclass(frozen=True)
class NeedKey:
    """Staff of one role with given skills, wanted at a site for one session."""

    site: int
    t: int
    role: StaffRole
    skills: frozenset[str]
    modality: Modality


@dataclass
class Instance:
    problem: DiaryProblem
    sites: list[Site]
    days: list[date]
    templates: list[SessionTemplate]
    classes: list[RoomClass]
    groups: list[StaffGroup]
    group_available: np.ndarray
    """[group, t] staff available per session."""
    group_contracted: np.ndarray
    group_overtime: np.ndarray
    needs: list[NeedKey]
    need_groups: list[list[int]]
    option_class: np.ndarray
    option_template: np.ndarray
    option_t: np.ndarray
    option_cost: np.ndarray
    option_crew_need: np.ndarray
    option_crew: np.ndarray
    option_rad_need: np.ndarray
    """Radiologist need index, or -1 when the template needs none."""
    option_rad_share: np.ndarray
    """Radiologists per room: 1 / rooms_per_radiologist."""
    flow_need: np.ndarray
    flow_group: np.ndarray
    demand: DemandCells
    last_week: LastWeek
    time_offpeak: np.ndarray
    """[t] evening or weekend: the sessions overtime may be worked in."""
    diagnoses: list = field(default_factory=list)

    @property
    def weights(self) -> Weights:
        return self.problem.weights

    @property
    def n_times(self) -> int:
        return DAYS_PER_WEEK * len(PERIODS)

    def time_of(self, t: int) -> tuple[date, SessionPeriod]:
        return self.days[t // len(PERIODS)], PERIODS[t % len(PERIODS)]

    @property
    def option_class_time(self) -> np.ndarray:
        """[option] one key per class × session, for rows over a class's rooms."""
        return self.option_class * self.n_times + self.option_t

    def options_of(self, modality: Modality) -> np.ndarray:
        return np.flatnonzero(self.option_modality_codes == MODALITIES.index(modality))

    @property
    def option_modality_codes(self) -> np.ndarray:
        codes = np.array([MODALITIES.index(t.modality) for t in self.templates], dtype=int)
        return codes[self.option_template]


def compile_instance(problem: DiaryProblem) -> Instance:
    """Index the problem; raises DiaryInputError for input that cannot be planned at all."""
    check_input(problem)
    network = problem.network
    sites = list(network.sites)
    site_index = {site.site_id: i for i, site in enumerate(sites)}
    days = [problem.week_start + timedelta(days=d) for d in range(DAYS_PER_WEEK)]
    templates = sorted(problem.templates.values(), key=lambda t: t.template_id)
    classes = _room_classes(network.rooms, site_index)
    groups = sorted(network.staff_groups, key=lambda g: g.staff_group_id)
    available = _availability(problem, groups, days)
    builder = _OptionBuilder(sites, templates, classes, groups, available, site_index,
                             problem.weights, days)
    builder.build()
    demand = compile_demand(problem, sites, templates, classes, builder.site_families())
    option_class = np.array(builder.option_class, dtype=int)
    option_template = np.array(builder.option_template, dtype=int)
    option_t = np.array(builder.option_t, dtype=int)
    last = compile_last_week(problem.last_week, classes, templates, days, option_class,
                             option_template, option_t)
    contracted = np.array([g.sessions_per_week for g in groups], dtype=float)
    return Instance(
        problem=problem, sites=sites, days=days, templates=templates, classes=classes,
        groups=groups, group_available=available, group_contracted=contracted,
        group_overtime=np.floor(contracted * problem.overtime_share),
        needs=builder.needs, need_groups=builder.need_groups,
        option_class=option_class, option_template=option_template, option_t=option_t,
        option_cost=np.array(builder.option_cost, dtype=float),
        option_crew_need=np.array(builder.option_crew_need, dtype=int),
        option_crew=np.array(builder.option_crew, dtype=int),
        option_rad_need=np.array(builder.option_rad_need, dtype=int),
        option_rad_share=np.array(builder.option_rad_share, dtype=float),
        flow_need=np.array(builder.flow_need, dtype=int),
        flow_group=np.array(builder.flow_group, dtype=int),
        demand=demand, last_week=last,
        time_offpeak=np.array([is_offpeak(days[t // len(PERIODS)], PERIODS[t % len(PERIODS)])
                               for t in range(DAYS_PER_WEEK * len(PERIODS))]),
        diagnoses=unusable_templates(problem) + list(demand.diagnoses),
    )


def session_fits(site: Site, day: date, period: SessionPeriod) -> bool:
    """A session runs only if the site is open for the whole of it."""
    hours = site.hours_on(day.weekday())
    return hours.is_open and hours.opens <= period.start and hours.closes >= period.end


def is_offpeak(day: date, period: SessionPeriod) -> bool:
    return day.weekday() >= 5 or period is SessionPeriod.EVENING


def offpeak_cost(day: date, period: SessionPeriod, weights: Weights, slots: int) -> float:
    """Evening and weekend pay for a room-session of `slots` exam slots (see `Weights`)."""
    per_slot = 0.0
    if day.weekday() >= 5:
        per_slot += weights.weekend_per_slot
    if period is SessionPeriod.EVENING:
        per_slot += weights.evening_per_slot
    return per_slot * slots


def template_fits_room(template: SessionTemplate, room_class: RoomClass) -> bool:
    return (template.modality is room_class.modality
            and template.required_capabilities <= room_class.capabilities)


def staff_skills_needed(template: SessionTemplate) -> frozenset[str]:
    """The template's modality plus its clinical capabilities (cardiac, paediatric,
    fluoroscopy); equipment capabilities belong to rooms and need no skill."""
    clinical = template.required_capabilities & CLINICAL_SKILLS
    return frozenset({template.modality.value} | {c.value for c in clinical})


def _room_classes(rooms: tuple[Room, ...], site_index: dict[str, int]) -> list[RoomClass]:
    pooled: dict[tuple, list[str]] = {}
    for room in sorted(rooms, key=lambda r: r.room_id):
        key = (site_index[room.site_id], room.modality, room.capabilities)
        pooled.setdefault(key, []).append(room.room_id)
    return [RoomClass(site, modality, caps, tuple(ids))
            for (site, modality, caps), ids in sorted(pooled.items(), key=lambda kv: kv[1][0])]


def _availability(problem: DiaryProblem, groups: list[StaffGroup], days: list[date]) -> np.ndarray:
    calendar = StaffCalendar(groups, problem.staff_availability)
    available = np.zeros((len(groups), DAYS_PER_WEEK * len(PERIODS)))
    for g, group in enumerate(groups):
        for d, day in enumerate(days):
            for p, period in enumerate(PERIODS):
                available[g, d * len(PERIODS) + p] = calendar.available(group.staff_group_id,
                                                                        day, period)
    return available


class _OptionBuilder:
    """Enumerates the options a room class has and the staff needs each creates."""

    def __init__(self, sites, templates, classes, groups, available, site_index, weights,
                 days) -> None:
        self.sites, self.templates, self.classes, self.days = sites, templates, classes, days
        self.groups, self.available, self.weights = groups, available, weights
        self.site_groups: dict[int, list[int]] = {}
        for g, group in enumerate(groups):
            self.site_groups.setdefault(site_index[group.site_id], []).append(g)
        self.needs: list[NeedKey] = []
        self.need_groups: list[list[int]] = []
        self._need_index: dict[NeedKey, int | None] = {}
        self.flow_need: list[int] = []
        self.flow_group: list[int] = []
        self.option_class: list[int] = []
        self.option_template: list[int] = []
        self.option_t: list[int] = []
        self.option_cost: list[float] = []
        self.option_crew_need: list[int] = []
        self.option_crew: list[int] = []
        self.option_rad_need: list[int] = []
        self.option_rad_share: list[float] = []

    def build(self) -> None:
        for c, room_class in enumerate(self.classes):
            site = self.sites[room_class.site]
            for k, template in enumerate(self.templates):
                if not template_fits_room(template, room_class):
                    continue
                for t in range(DAYS_PER_WEEK * len(PERIODS)):
                    self._add_option(c, room_class, site, k, template, t)

    def site_families(self) -> dict[tuple[int, object], list[tuple[int, int]]]:
        """(site, family) → [(option, exams per session)]."""
        result: dict[tuple[int, object], list[tuple[int, int]]] = {}
        for option, (c, k) in enumerate(zip(self.option_class, self.option_template,
                                            strict=True)):
            for family, count in self.templates[k].capacity:
                result.setdefault((self.classes[c].site, family), []).append((option, count))
        return result

    def _add_option(self, c, room_class, site, k, template, t) -> None:
        day = self.days[t // len(PERIODS)]
        period = PERIODS[t % len(PERIODS)]
        if period not in template.periods or not session_fits(site, day, period):
            return
        crew_need = self._need(room_class.site, t, template.crew_role, template)
        if crew_need is None:
            return
        rad_need, rad_share = -1, 0.0
        if template.radiologist_required:
            rad_need = self._need(room_class.site, t, StaffRole.RADIOLOGIST, template)
            if rad_need is None:
                return
            rad_share = 1.0 / template.rooms_per_radiologist
        self.option_class.append(c)
        self.option_template.append(k)
        self.option_t.append(t)
        self.option_cost.append(offpeak_cost(day, period, self.weights, template.total_slots))
        self.option_crew_need.append(crew_need)
        self.option_crew.append(template.crew_per_room)
        self.option_rad_need.append(rad_need)
        self.option_rad_share.append(rad_share)

    def _need(self, site: int, t: int, role: StaffRole, template: SessionTemplate) -> int | None:
        skills = staff_skills_needed(template)
        key = NeedKey(site, t, role, skills, template.modality)
        if key in self._need_index:
            return self._need_index[key]
        eligible = [g for g in self.site_groups.get(site, [])
                    if self.groups[g].role is role and skills <= self.groups[g].skills
                    and self.available[g, t] > 0]
        if not eligible:
            self._need_index[key] = None
            return None
        index = len(self.needs)
        self._need_index[key] = index
        self.needs.append(key)
        self.need_groups.append(eligible)
        for g in eligible:
            self.flow_need.append(index)
            self.flow_group.append(g)
        return index

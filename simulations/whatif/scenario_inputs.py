"""A scenario applied to a start state: the inputs of its replications. Diary changes become
weekly plans (one per distinct set of changes in force; under `templates` today's diary with
the changes laid on it, under `solver` a diary the optimiser builds for the changed network
and demand), closures become day ranges, demand changes become multipliers per week and
referral cell."""

from __future__ import annotations

import dataclasses
from datetime import date, time

import numpy as np

from domain.network import Network, OpeningHours, Room
from optimiser.build import build_diary
from optimiser.problem import PERIODS, DemandRow, DiaryProblem
from simulations.whatif.choice import ChoiceModel
from simulations.whatif.inputs import Breakdowns, Closure, Inputs, Policies, StartPatients
from simulations.whatif.patient_models import WALK_IN_SHARE
from simulations.whatif.room_plan import room_plan, rooms_of
from simulations.whatif.scenario import (
    AddScanner,
    Booking,
    Change,
    DemandChange,
    Diaries,
    ExtendHours,
    PolicyChoice,
    Scenario,
    StaffShort,
    check_against,
)
from simulations.whatif.start_state import PLAN_HEADROOM, StartState
from simulations.whatif.world import (
    BANDS,
    FAMILIES,
    FAMILY_MODALITY,
    MODALITIES,
    PRIORITIES,
    compile_world,
)

EVENING, SATURDAY, SUNDAY = PERIODS.index(PERIODS[2]), 5, 6
EXTENDED_CLOSE = time(21, 30)
WEEKEND_HOURS = OpeningHours(time(8, 0), time(17, 0))


def compile_inputs(start: StartState, scenario: Scenario, *, baseline: bool, weeks: int,
                   warmup_weeks: int) -> Inputs:
    """The inputs of the scenario (or of its baseline: its `baseline` policies, no changes)."""
    check_against(scenario, start.network, start.monday)
    choice = scenario.baseline if baseline else scenario.policies
    changes = [] if baseline else [_body(c) for c in scenario.changes]
    network = _with_added_rooms(start.network, [c for c in changes if isinstance(c, AddScanner)])
    world = compile_world(network, start.demand)
    n_weeks = weeks + 8
    span = [_active_weeks(c, start.monday, n_weeks) for c in changes]
    diary_changes = [i for i, c in enumerate(changes)
                     if isinstance(c, AddScanner | ExtendHours | StaffShort)]
    keys = [tuple(i for i in diary_changes if span[i][w]) for w in range(n_weeks)]
    distinct = sorted(set(keys))
    plans = np.stack([_plan(start, network, world.site_ids, [changes[i] for i in key], choice,
                            _demand_in(start, [c for c in changes if isinstance(c, DemandChange)]))
                      for key in distinct])
    room_ids, room_site, room_modality = rooms_of(network, world.site_ids)
    return Inputs(
        world=world, weeks=weeks, warmup_weeks=warmup_weeks, room_site=room_site,
        room_modality=room_modality, plans=plans.sum(axis=3).astype(np.int16),
        plan_of_week=np.array([distinct.index(k) for k in keys]),
        closures=tuple(_closures(changes, network, room_ids, start.monday)),
        rate_multiplier=_rates(changes, span, world, network, weeks),
        hold_share=_hold_share(world), policies=_policies(choice),
        start=_start_patients(start, world), label=scenario.name + (" (baseline)" if baseline
                                                                    else ""))


def _body(change: Change):
    return next(getattr(change, k) for k in Change.model_fields if getattr(change, k) is not None)


def _policies(choice: PolicyChoice) -> Policies:
    return Policies(own_trust=choice.booking is Booking.OWN_TRUST, backfill=choice.backfill,
                    solver_diaries=choice.diaries is Diaries.SOLVER, choice=ChoiceModel(),
                    breakdowns=Breakdowns(enabled=choice.breakdowns))


def _active_weeks(change, monday: date, weeks: int) -> np.ndarray:
    first = 0 if change.starts is None else (change.starts - monday).days
    last = 10**6 if change.ends is None else (change.ends - monday).days
    starts = np.arange(weeks) * 7
    return (starts + 6 >= first) & (starts <= last)


def _with_added_rooms(network: Network, added: list[AddScanner]) -> Network:
    rooms = list(network.rooms)
    for n, change in enumerate(added):
        like = [r for r in network.rooms if r.modality is change.modality]
        model = max((r for r in like if r.site_id == change.site),
                    key=lambda r: len(r.capabilities), default=None)
        for k in range(change.count):
            rooms.append(Room(f"{change.site}-NEW-{change.modality.value}-{n}-{k}", change.site,
                              f"New {change.modality.value} scanner {k + 1}", change.modality,
                              model.capabilities if model else frozenset(),
                              model.max_weight_kg if model else 200))
    return dataclasses.replace(network, rooms=tuple(rooms))


def _where(change, network: Network) -> set[str]:
    """Site ids a change names (all sites when it names none)."""
    if change.site:
        return {change.site}
    if change.sites:
        return set(change.sites)
    if change.trust:
        return {s.site_id for s in network.sites if s.trust_id == change.trust}
    return {s.site_id for s in network.sites}


def _plan(start: StartState, network: Network, site_ids, changes, choice: PolicyChoice,
          demand: tuple[DemandRow, ...]) -> np.ndarray:
    """[R, 7, 3, F] slots of one week's diary with `changes` in force."""
    if choice.diaries is Diaries.SOLVER:
        changed = _changed_network(network, start.network, changes)
        planned_for = tuple(dataclasses.replace(row, expected_count=row.expected_count
                                                * PLAN_HEADROOM) for row in demand)
        plan = build_diary(DiaryProblem(changed, start.templates, start.monday, planned_for),
                           time_limit_s=choice.solver_seconds, workers=1)
        return room_plan(changed, site_ids, plan.sessions, start.templates).slots
    plan = room_plan(network, site_ids, start.diary, start.templates)
    slots = plan.slots.astype(np.float64)
    room_of = {r: i for i, r in enumerate(plan.room_ids)}
    for change in changes:
        if isinstance(change, AddScanner):
            _copy_lists(slots, plan, room_of, change, network)
        elif isinstance(change, ExtendHours):
            _extend(slots, plan, change, network, site_ids)
        elif isinstance(change, StaffShort):
            rows = _rooms_at(plan, change, network, site_ids)
            slots[rows] = np.floor(slots[rows] * (1 - change.share) + 0.5)
    return slots.astype(np.int16)


def _rooms_at(plan, change, network: Network, site_ids) -> np.ndarray:
    sites = [site_ids.index(s) for s in _where(change, network)]
    mask = np.isin(plan.room_site, sites)
    if getattr(change, "modality", None) is not None:
        mask &= plan.room_modality == MODALITIES.index(change.modality)
    return np.flatnonzero(mask)


def _copy_lists(slots, plan, room_of, change: AddScanner, network: Network) -> None:
    """A new scanner runs the lists of the busiest room of its modality at the site (or, if
    the site has none, of the modality's busiest room in the network)."""
    modality = MODALITIES.index(change.modality)
    same = np.flatnonzero((plan.room_modality == modality) & (slots.sum(axis=(1, 2, 3)) > 0))
    at_site = [r for r in same if network.rooms[r].site_id == change.site]
    pool = at_site or list(same)
    if not pool:
        return
    model = max(pool, key=lambda r: slots[r].sum())
    for room in network.rooms:
        if room.room_id.startswith(f"{change.site}-NEW-{change.modality.value}-"):
            slots[room_of[room.room_id]] = slots[model]


def _extend(slots, plan, change: ExtendHours, network: Network, site_ids) -> None:
    """Evening lists repeat the room's morning list; weekend days repeat its Monday."""
    rows = _rooms_at(plan, change, network, site_ids)
    block = slots[rows]
    if change.evenings:
        empty = block[:, :5, EVENING].sum(axis=-1, keepdims=True) == 0
        block[:, :5, EVENING] = np.where(empty, block[:, :5, 0], block[:, :5, EVENING])
    for flag, day in ((change.saturdays, SATURDAY), (change.sundays, SUNDAY)):
        if flag:
            empty = block[:, day].sum(axis=(-1, -2), keepdims=True) == 0
            block[:, day] = np.where(empty, block[:, 0], block[:, day])
    slots[rows] = block


def _changed_network(network: Network, original: Network, changes) -> Network:
    """The network the solver plans: rooms added (already in `network`), hours extended,
    staff short."""
    sites, groups = list(network.sites), list(network.staff_groups)
    for change in changes:
        where = _where(change, network)
        if isinstance(change, ExtendHours):
            sites = [_longer(s, change) if s.site_id in where else s for s in sites]
            groups = [dataclasses.replace(g, works_evenings=g.works_evenings or change.evenings,
                                          works_weekends=g.works_weekends or change.saturdays
                                          or change.sundays) if g.site_id in where else g
                      for g in groups]
        elif isinstance(change, StaffShort):
            groups = [dataclasses.replace(
                g, headcount=max(0, round(g.headcount * (1 - change.share))),
                sessions_per_week=max(0, round(g.sessions_per_week * (1 - change.share))))
                if g.site_id in where else g for g in groups]
    return dataclasses.replace(network, sites=tuple(sites), staff_groups=tuple(groups))


def _longer(site, change: ExtendHours):
    weekday = site.weekday
    if change.evenings and weekday.is_open and weekday.closes < EXTENDED_CLOSE:
        weekday = OpeningHours(weekday.opens, EXTENDED_CLOSE)
    saturday = site.saturday if site.saturday.is_open or not change.saturdays else WEEKEND_HOURS
    sunday = site.sunday if site.sunday.is_open or not change.sundays else WEEKEND_HOURS
    return dataclasses.replace(site, weekday=weekday, saturday=saturday, sunday=sunday)


def _demand_in(start: StartState, changes: list[DemandChange]) -> tuple[DemandRow, ...]:
    """The forecast with every demand change applied (what the solver plans for)."""
    ics_of = {a.area_id: a.ics_id for a in start.network.demand_areas}
    rows = []
    for row in start.demand:
        factor = 1.0
        for c in changes:
            if _matches(c, row.family.modality.value, row.area_id, ics_of[row.area_id]):
                factor *= 1 + c.percent / 100
        rows.append(dataclasses.replace(row, expected_count=row.expected_count * factor))
    return tuple(rows)


def _matches(change: DemandChange, modality: str, area: str, ics: str) -> bool:
    return ((change.modality is None or change.modality.value == modality)
            and (change.area is None or change.area == area)
            and (change.ics is None or change.ics == ics))


def _rates(changes, span, world, network: Network, weeks: int) -> np.ndarray:
    multiplier = np.ones((weeks, len(world.weekly_rate)))
    ics_of = {a.area_id: a.ics_id for a in network.demand_areas}
    family, area = world.cells[:, 0], world.cells[:, 1]
    for change, active in zip(changes, span, strict=True):
        if not isinstance(change, DemandChange):
            continue
        cell = np.array([_matches(change, MODALITIES[FAMILY_MODALITY[f]].value,
                                  world.area_ids[a], ics_of[world.area_ids[a]])
                         for f, a in zip(family, area, strict=True)])
        multiplier[np.ix_(active[:weeks], cell)] *= 1 + change.percent / 100
    return multiplier


def _closures(changes, network: Network, room_ids, monday: date) -> list[Closure]:
    closures = []
    index = {r: i for i, r in enumerate(room_ids)}
    for change in changes:
        if not hasattr(change, "rooms"):
            continue
        if change.rooms:
            rooms = [index[r] for r in change.rooms]
        else:
            where = _where(change, network)
            rooms = [index[r.room_id] for r in network.rooms if r.site_id in where and (
                change.modality is None or r.modality is change.modality)]
        first = 0 if change.starts is None else (change.starts - monday).days
        last = 10**6 if change.ends is None else (change.ends - monday).days
        closures.append(Closure(np.array(rooms, dtype=np.int64), first, last))
    return closures


def _hold_share(world) -> np.ndarray:
    """Held back per queue: in plain X-ray the walk-in share of its demand (for the day
    itself), elsewhere the urgent and two-week-wait share of the family's demand."""
    family, priority = world.cells[:, 0], world.cells[:, 2]
    share = np.zeros(len(FAMILIES))
    for f in range(len(FAMILIES)):
        mine = family == f
        total = world.weekly_rate[mine].sum()
        if total <= 0:
            continue
        if FAMILIES[f].value == "XR_PLAIN":
            held = (world.weekly_rate[mine] * np.array(WALK_IN_SHARE)[priority[mine]]).sum()
        else:
            held = world.weekly_rate[mine & (priority < 2)].sum()
        share[f] = held / total
    return np.tile(share, world.n_sites)


def _start_patients(start: StartState, world) -> StartPatients:
    area = {a: i for i, a in enumerate(world.area_ids)}
    site = {s: i for i, s in enumerate(world.site_ids)}
    rows = [(FAMILIES.index(b.family), area[b.area_id], PRIORITIES.index(b.priority),
             BANDS.index(b.age_band), (b.received - start.monday).days, site[b.site_id],
             (b.day - start.monday).days, -1)
            for b in start.booked if b.area_id in area and b.site_id in site
            and b.day >= start.monday]
    rows += [(FAMILIES.index(w.family), area[w.area_id], PRIORITIES.index(w.priority),
              BANDS.index(w.age_band), (w.received - start.monday).days, -1, -1,
              -1 if w.due_date is None else (w.due_date - start.monday).days)
             for w in start.waiting if w.area_id in area]
    if not rows:
        return StartPatients.none()
    columns = np.array(rows, dtype=np.int64).T
    return StartPatients(*columns)



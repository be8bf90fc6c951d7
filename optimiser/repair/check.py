"""An independent check of a repair result against the raw problem: the new diary respects the
disruptions and the rooms, every patient ends up in a list that runs (or on the worklist), no
two patients share a slot, every moved patient's new slot passes the slot rules (judged by the
one-slot-at-a-time reference engine, not the vectorised one the repair uses), and no site is
shorter of staff than it was or over its overtime. Returns every problem found, in words."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

from domain.vocabulary import StaffRole
from optimiser.problem import PERIODS
from optimiser.repair.diary import Diary, SessionKey, period_at, room_can_run, session_start
from optimiser.repair.disruption import days_of, disruption_effects, repair_modalities
from optimiser.repair.problem import RepairProblem, RoomDown, SessionCancelled, SiteClosed
from optimiser.repair.result import RepairResult
from optimiser.repair.staffing import StaffPicture, people_needed, shortfall
from slot_rules.eligibility_scalar import SlotRecord, eligible_one_by_one
from slot_rules.loading import shipped_slot_eligibility
from slot_rules.slot_request import LONDON
from slot_rules.slot_table import FAMILY_BIT, MODALITY_CODE, capability_mask, epoch_minutes


def check_repair(problem: RepairProblem, result: RepairResult,
                 diary: Diary | None = None) -> list[str]:
    """Every problem found; `diary` may be the repair's own index of the problem if it covers
    every day, site and modality the result names (it is only the input, read)."""
    if diary is None:
        diary = Diary(problem, *_window(problem, result), sites=_sites(problem, result),
                      modalities=_modalities(problem, result))
    after = _new_plan(diary, result)
    return (_disruptions_respected(problem, diary, after) + _lists_fit(diary, after)
            + _patients_placed(diary, result, after) + _staffing(problem, diary, after))


def _window(problem: RepairProblem, result: RepairResult) -> tuple[date, date]:
    """Today to the last day any disruption, move or change names."""
    today = problem.now.astimezone(LONDON).date()
    days = [d for disruption in problem.disruptions for d in days_of(disruption)]
    days += [d for m in result.moves for d in (m.source.date, m.target.date)]
    days += [u.source.date for u in result.unplaced]
    days += [c.date for c in result.session_changes]
    return min([today, *days]), max([today, *days])


def _sites(problem: RepairProblem, result: RepairResult) -> set[str]:
    """Every site a disruption, move or change names."""
    rooms = {room.room_id: room.site_id for room in problem.network.rooms}
    sites = {getattr(d, "site_id", None) or rooms.get(getattr(d, "room_id", ""))
             for d in problem.disruptions}
    sites |= {p.site_id for m in result.moves for p in (m.source, m.target)}
    sites |= {c.site_id for c in result.session_changes}
    return {s for s in sites if s}


def _modalities(problem: RepairProblem, result: RepairResult) -> set:
    """Modalities of every room a disruption, move or change names."""
    rooms = {room.room_id: room for room in problem.network.rooms}
    named = {m.source.room_id for m in result.moves} | {m.target.room_id for m in result.moves}
    named |= {c.room_id for c in result.session_changes}
    return repair_modalities(problem) | {rooms[r].modality for r in named}


def _new_plan(diary: Diary, result: RepairResult) -> dict[SessionKey, str]:
    plan = dict(diary.plan)
    for change in result.session_changes:
        key = (change.room_id, change.date, change.period)
        if change.after is None:
            plan.pop(key, None)
        else:
            plan[key] = change.after
    return plan


def _disruptions_respected(problem: RepairProblem, diary: Diary,
                           after: dict[SessionKey, str]) -> list[str]:
    found = []
    for disruption in problem.disruptions:
        if isinstance(disruption, RoomDown | SiteClosed):
            rooms = ([disruption.room_id] if isinstance(disruption, RoomDown) else
                     [r for r, room in diary.rooms.items() if room.site_id == disruption.site_id])
            for room_id in rooms:
                for day in days_of(disruption):
                    found += [f"{room_id} {day} {p}: a list runs in a room out of use"
                              for p in PERIODS if (room_id, day, p) in after]
        if isinstance(disruption, SessionCancelled) and (
                disruption.room_id, disruption.day, disruption.period) in after:
                found.append(f"{disruption.room_id} {disruption.day} {disruption.period}: "
                             f"the cancelled list still runs")
    return found


def _lists_fit(diary: Diary, after: dict[SessionKey, str]) -> list[str]:
    found = []
    for key, template_id in after.items():
        if diary.plan.get(key) == template_id:
            continue
        room_id, day, period = key
        template, room = diary.templates[template_id], diary.rooms[room_id]
        hours = diary.sites[room.site_id].hours_on(day.weekday())
        if not room_can_run(room, template) or period not in template.periods:
            found.append(f"{room_id} {day} {period}: cannot run {template_id}")
        if not (hours.is_open and hours.opens <= period.start and hours.closes >= period.end):
            found.append(f"{room_id} {day} {period}: the site is not open for the session")
    return found


def _patients_placed(diary: Diary, result: RepairResult,
                     after: dict[SessionKey, str]) -> list[str]:
    """Patients in every list the repair touched (changed, or receiving someone) and every
    patient moved; lists it did not touch hold the same patients as before."""
    moved = {m.appointment_id: m for m in result.moves}
    unplaced = {u.appointment_id for u in result.unplaced}
    touched = {k for k in set(after) | set(diary.plan) if after.get(k) != diary.plan.get(k)}
    touched |= {(m.target.room_id, m.target.date, m.target.period) for m in result.moves}
    now = diary.problem.now
    taken: dict[tuple[str, int], int] = {}
    found = []
    for key in touched:
        if key in diary.plan and after.get(key) == diary.plan[key]:
            for slot in diary.blocked.get(key, ()):
                taken[(key[0], _minute(diary, key, diary.plan[key], slot))] = -1
    checked = set(moved) | {a for key in touched for a in diary.booked_in.get(key, [])}
    for a in sorted(checked - unplaced):
        booking = diary.bookings[a]
        if a in moved:
            room_id, start = moved[a].target.room_id, moved[a].target.start
        else:
            room_id, start = booking.room_id, booking.start
        found += _one_patient(diary, a, room_id, start, after, taken, a in moved, now)
    return found


def _one_patient(diary, a, room_id, start, after, taken, moved, now) -> list[str]:
    found = []
    where = period_at(start)
    key = None if where is None else (room_id, *where)
    template_id = after.get(key) if key else None
    if template_id is None:
        return [] if start < now and not moved else [f"appointment {a}: its list does not run"]
    template = diary.templates[template_id]
    booking = diary.bookings[a]
    offset = (start - session_start(key[1], key[2])).total_seconds() / 60
    first, rest = divmod(int(offset), template.slot_minutes)
    count = math.ceil(booking.request.duration_min / template.slot_minutes)
    if rest or first + count > template.total_slots:
        return [f"appointment {a}: not on a run of slots of {template_id}"]
    if not moved and template_id != diary.plan[key]:
        found.append(f"appointment {a}: stays but its list changed to {template_id}")
    for slot in range(first, first + count):
        minute = _minute(diary, key, template_id, slot)
        if (room_id, minute) in taken:
            found.append(f"appointment {a}: shares a slot with {taken[(room_id, minute)]}")
        taken[(room_id, minute)] = a
    if moved and not _eligible(diary, booking, key, template, first, count):
        found.append(f"appointment {a}: the new slot fails the slot rules")
    return found


def _minute(diary: Diary, key: SessionKey, template_id: str, slot: int) -> int:
    template = diary.templates[template_id]
    start = session_start(key[1], key[2]) + timedelta(minutes=slot * template.slot_minutes)
    return epoch_minutes(start)


def _eligible(diary: Diary, booking, key: SessionKey, template, first: int, count: int) -> bool:
    room = diary.rooms[key[0]]
    site = diary.sites[room.site_id]
    family = [f for f, n in template.capacity for _ in range(n)][first]
    record = SlotRecord(
        start_min=_minute(diary, key, template.template_id, first),
        length_min=template.slot_minutes, site=0, site_id=site.site_id, room=0,
        modality=MODALITY_CODE[room.modality], room_capabilities=capability_mask(
            room.capabilities), room_max_weight_kg=room.max_weight_kg,
        template_families=FAMILY_BIT[family], radiologist_present=template.radiologist_required,
        free_run_min=count * template.slot_minutes, site_lat=site.lat, site_lon=site.lon,
        step_free=site.step_free, hoist=site.hoist,
        age_limit_years=math.inf if site.age_limit_years is None else site.age_limit_years)
    rules = diary.problem.rules or shipped_slot_eligibility()
    return eligible_one_by_one(rules, [record], booking.request, diary.problem.now,
                               booking.overrides)[0]


def _staffing(problem: RepairProblem, diary: Diary, after: dict[SessionKey, str]) -> list[str]:
    effects = disruption_effects(diary)
    staff = StaffPicture(problem.network.staff_groups, problem.staff_availability, effects,
                         problem.overtime_share)
    added = defaultdict(list)
    for (room_id, day, period), (template_id, _) in effects.added.items():
        added[(diary.site_of(room_id), day, period)].append(template_id)
    by_where: dict[tuple, list[str]] = defaultdict(list)
    for (room_id, day, period), template_id in after.items():
        by_where[(diary.site_of(room_id), day, period)].append(template_id)
    changed = {(diary.site_of(k[0]), k[1], k[2]) for k in set(after) ^ set(diary.plan)
               } | {(diary.site_of(k[0]), k[1], k[2]) for k in after
                    if k in diary.plan and after[k] != diary.plan[k]}
    found = []
    for where in sorted(changed | _short_site_sessions(problem, diary)):
        planned = [diary.plan[k] for k in diary.lists_at.get(where, [])] + added[where]
        before = shortfall(people_needed(diary.templates[t] for t in planned),
                           staff.groups(where[0]), staff.available(where, after=False))
        now = shortfall(people_needed(diary.templates[t] for t in by_where.get(where, [])),
                        staff.groups(where[0]), staff.available(where))
        if now > before:
            found.append(f"{where[0]} {where[1]} {where[2]}: {now} staff short (was {before})")
    return found + _overtime(diary, staff, {k: t for k, t in after.items()
                                            if k not in effects.added})


def _short_site_sessions(problem: RepairProblem, diary: Diary) -> set[tuple]:
    effects = disruption_effects(diary)
    return {(site, day, period) for site, _, day in effects.staff_short for period in PERIODS}


def _overtime(diary: Diary, staff: StaffPicture, after: dict[SessionKey, str]) -> list[str]:
    """Person-sessions added per site, role and week (lists a manager added aside) within the
    overtime allowance; crews freed by lists that stop count against them."""
    added: dict[tuple, int] = defaultdict(int)
    for plan, sign in ((after, 1), (diary.plan, -1)):
        for (room_id, day, _), template_id in plan.items():
            template = diary.templates[template_id]
            added[(diary.site_of(room_id), template.crew_role, day.isocalendar()[:2])] += (
                sign * template.crew_per_room)
    return [f"{site} {role} week {week[1]}: {n} person-sessions added, overtime allows "
            f"{staff.overtime_budget(site, role)}"
            for (site, role, week), n in sorted(added.items())
            if n > staff.overtime_budget(site, StaffRole(role))]

"""Disruptions checked and turned into their effects on the plan: sessions removed, rooms that
may not run, lists added, staff lost. A disruption in the past, one naming something unknown,
or two that touch the same room-day (or the same site's role on a day) are refused, naming the
field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.geography import haversine_km
from domain.vocabulary import Modality, StaffRole
from optimiser.instance import session_fits
from optimiser.problem import PERIODS
from optimiser.repair.diary import Diary, SessionKey, room_can_run
from optimiser.repair.problem import (
    Disruption,
    ExtraList,
    RepairInputError,
    RepairProblem,
    RepairSettings,
    RoomDown,
    SessionCancelled,
    SiteClosed,
    StaffShort,
)
from slot_rules.slot_request import LONDON


@dataclass
class Effects:
    removed: dict[SessionKey, str] = field(default_factory=dict)
    """Sessions of the plan that will not run, and why."""
    down: dict[tuple[str, date], str] = field(default_factory=dict)
    """Room-days in which no list may run."""
    added: dict[SessionKey, tuple[str, str]] = field(default_factory=dict)
    """Lists added: template and reason."""
    staff_short: dict[tuple[str, StaffRole, date], tuple[int, str]] = field(default_factory=dict)
    """(site, role, day) → people fewer in each session, and why."""
    sites: set[str] = field(default_factory=set)
    days: set[date] = field(default_factory=set)


def disruption_effects(diary: Diary) -> Effects:
    """Check every disruption, then their effects on the plan; RepairInputError on bad input."""
    problem = diary.problem
    today = problem.now.astimezone(LONDON).date()
    effects = Effects()
    claimed: dict[tuple, int] = {}
    for i, disruption in enumerate(problem.disruptions):
        where = f"disruptions[{i}]"
        _check_dates(where, disruption, today)
        _check_names(where, disruption, diary)
        for mark in _footprint(disruption, diary):
            if mark in claimed:
                raise RepairInputError(where, f"overlaps disruptions[{claimed[mark]}] "
                                       f"({_words(mark)})")
            claimed[mark] = i
        _apply(disruption, diary, effects)
    return effects


def repair_window(problem: RepairProblem, settings: RepairSettings) -> tuple[date, date]:
    """The days a repair may read and change: from today (or a few days before the first
    disrupted day) to a few days after the last."""
    today = problem.now.astimezone(LONDON).date()
    days = [d for disruption in problem.disruptions for d in days_of(disruption)]
    if not days:
        return today, today
    return (max(today, min(days) - timedelta(days=settings.days_before)),
            max(days) + timedelta(days=settings.days_after))


def repair_sites(problem: RepairProblem, settings: RepairSettings) -> set[str]:
    """Sites a repair may read and change: those within the radius of a disrupted site."""
    sites = problem.network.site_by_id
    rooms = {room.room_id: room.site_id for room in problem.network.rooms}
    centres = {sites[d.site_id] for d in problem.disruptions
               if isinstance(d, SiteClosed | StaffShort) and d.site_id in sites}
    centres |= {sites[rooms[d.room_id]] for d in problem.disruptions
                if not isinstance(d, SiteClosed | StaffShort) and d.room_id in rooms}
    return {s.site_id for s in sites.values()
            if any(haversine_km(s.lat, s.lon, c.lat, c.lon) <= settings.radius_km
                   for c in centres)}


def repair_modalities(problem: RepairProblem) -> set[Modality]:
    """Modalities whose patients a disruption may displace: the room's; every one at a closed
    site; those whose lists the short role staffs (a radiologist: any)."""
    rooms = {room.room_id: room for room in problem.network.rooms}
    found: set[Modality] = set()
    for d in problem.disruptions:
        if isinstance(d, SiteClosed) or (isinstance(d, StaffShort)
                                          and d.role is StaffRole.RADIOLOGIST):
            return set(Modality)
        if isinstance(d, StaffShort):
            found |= {t.modality for t in problem.templates.values() if t.crew_role is d.role}
        elif d.room_id in rooms:
            found.add(rooms[d.room_id].modality)
    return found


def days_of(disruption: Disruption) -> list[date]:
    if isinstance(disruption, SessionCancelled | ExtraList):
        return [disruption.day]
    count = (disruption.last_day - disruption.first_day).days + 1
    return [disruption.first_day + timedelta(days=d) for d in range(count)]


def _check_dates(where: str, disruption: Disruption, today: date) -> None:
    if isinstance(disruption, SessionCancelled | ExtraList):
        if disruption.day < today:
            raise RepairInputError(f"{where}.day", f"{disruption.day} is in the past (today is "
                                   f"{today})")
        return
    if disruption.first_day < today:
        raise RepairInputError(f"{where}.first_day", f"{disruption.first_day} is in the past "
                               f"(today is {today})")
    if disruption.last_day < disruption.first_day:
        raise RepairInputError(f"{where}.last_day", f"{disruption.last_day} is before "
                               f"first_day {disruption.first_day}")


def _check_names(where: str, disruption: Disruption, diary: Diary) -> None:
    if isinstance(disruption, SiteClosed | StaffShort):
        if disruption.site_id not in diary.sites:
            raise RepairInputError(f"{where}.site_id", f"no site '{disruption.site_id}'")
    else:
        if disruption.room_id not in diary.rooms:
            raise RepairInputError(f"{where}.room_id", f"no room '{disruption.room_id}'")
    if isinstance(disruption, StaffShort):
        if disruption.people < 1:
            raise RepairInputError(f"{where}.people", f"{disruption.people} is not a positive "
                                   f"number of staff")
        if not any(g.site_id == disruption.site_id and g.role is disruption.role
                   for g in diary.problem.network.staff_groups):
            raise RepairInputError(f"{where}.role", f"no {disruption.role} groups at "
                                   f"{disruption.site_id}")
    if isinstance(disruption, SessionCancelled) and (
            disruption.room_id, disruption.day, disruption.period) not in diary.plan:
        raise RepairInputError(f"{where}.period", f"{disruption.room_id} has no "
                               f"{disruption.period} list on {disruption.day} to cancel")
    if isinstance(disruption, ExtraList):
        _check_extra_list(where, disruption, diary)


def _check_extra_list(where: str, extra: ExtraList, diary: Diary) -> None:
    template = diary.templates.get(extra.template_id)
    if template is None:
        raise RepairInputError(f"{where}.template_id", f"no session template "
                               f"'{extra.template_id}'")
    room = diary.rooms[extra.room_id]
    if not room_can_run(room, template):
        raise RepairInputError(f"{where}.template_id", f"room {room.room_id} cannot run "
                               f"{template.template_id}")
    if extra.period not in template.periods:
        raise RepairInputError(f"{where}.period", f"{template.template_id} does not run in the "
                               f"{extra.period}")
    if not session_fits(diary.sites[room.site_id], extra.day, extra.period):
        raise RepairInputError(f"{where}.period", f"{room.site_id} is not open for the whole "
                               f"{extra.period} session on {extra.day}")
    if (extra.room_id, extra.day, extra.period) in diary.plan:
        raise RepairInputError(f"{where}.period", f"{extra.room_id} already runs a "
                               f"{extra.period} list on {extra.day}")


def _rooms_of(disruption: Disruption, diary: Diary) -> list[str]:
    if isinstance(disruption, SiteClosed):
        return sorted(r for r, room in diary.rooms.items() if room.site_id == disruption.site_id)
    return [disruption.room_id]


def _footprint(disruption: Disruption, diary: Diary) -> Iterator[tuple]:
    """Room-sessions (or a site's role-days) the disruption claims; no two may share one."""
    if isinstance(disruption, StaffShort):
        for day in days_of(disruption):
            yield ("staff", disruption.site_id, disruption.role, day)
        return
    if isinstance(disruption, SessionCancelled | ExtraList):
        yield ("room", disruption.room_id, disruption.day, disruption.period)
        return
    for room_id in _rooms_of(disruption, diary):
        for day in days_of(disruption):
            for period in PERIODS:
                yield ("room", room_id, day, period)


def _words(mark: tuple) -> str:
    if mark[0] == "staff":
        return f"{mark[2]} staff at {mark[1]} on {mark[3]}"
    return f"room {mark[1]} on {mark[2]} ({mark[3]})"


def _apply(disruption: Disruption, diary: Diary, effects: Effects) -> None:
    reason = _reason(disruption)
    days = days_of(disruption)
    effects.days.update(days)
    if isinstance(disruption, StaffShort):
        effects.sites.add(disruption.site_id)
        for day in days:
            effects.staff_short[(disruption.site_id, disruption.role, day)] = (disruption.people,
                                                                              reason)
        return
    if isinstance(disruption, ExtraList):
        key = (disruption.room_id, disruption.day, disruption.period)
        effects.added[key] = (disruption.template_id, reason)
        effects.sites.add(diary.site_of(disruption.room_id))
        return
    for room_id in _rooms_of(disruption, diary):
        effects.sites.add(diary.site_of(room_id))
        for day in days:
            if isinstance(disruption, SessionCancelled):
                keys = [(room_id, day, disruption.period)]
            else:
                effects.down[(room_id, day)] = reason
                keys = [(room_id, day, period) for period in PERIODS]
            for key in keys:
                if key in diary.plan:
                    effects.removed[key] = reason


def _reason(disruption: Disruption) -> str:
    given = f": {disruption.reason}" if disruption.reason else ""
    if isinstance(disruption, RoomDown):
        return f"room {disruption.room_id} out of use{given}"
    if isinstance(disruption, SiteClosed):
        return f"site {disruption.site_id} closed{given}"
    if isinstance(disruption, StaffShort):
        return f"{disruption.people} {disruption.role}s short at {disruption.site_id}{given}"
    if isinstance(disruption, SessionCancelled):
        return f"list cancelled{given}"
    return f"extra list added{given}"

"""The part of the diary a repair re-plans: the disrupted sites and those within a radius, the
disrupted days with a few before and after, rooms of the modalities whose patients must move.
Everything else stays as it is. Each room-session here becomes a `Space` with the choices it
has: keep its list, close it, change or open one (only where no patient who stays holds a slot
in it)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from domain.geography import haversine_km
from domain.vocabulary import ExamFamily, Modality, StaffRole
from optimiser.instance import session_fits
from optimiser.problem import PERIODS
from optimiser.repair.closures import Closures, running_lists, template_id_of
from optimiser.repair.diary import Diary, SessionKey, room_can_run, session_start
from optimiser.repair.disruption import Effects
from optimiser.repair.problem import RepairSettings
from optimiser.repair.staffing import SiteSession, StaffPicture, crew_need
from slot_rules.slot_request import LONDON


@dataclass
class Space:
    """One room-session of the neighbourhood and the lists it may run (None: no list)."""

    key: SessionKey
    site_id: str
    before: str | None
    """The list in the plan before the disruption."""
    current: str | None
    """The list if the repair changes nothing (after the disruption and staff closures)."""
    options: tuple[str | None, ...]
    """Its choices, `current` first; one choice means it is fixed."""
    possible: tuple[str, ...] = ()
    """Every list it could run were all its patients free to move (a superset of the
    options): where a displaced patient could go in the complete model, for the lower bound."""


@dataclass
class Neighbourhood:
    sites: list[str]
    days: list[date]
    modalities: set[Modality]
    spaces: list[Space]
    forced: list[int]
    """Appointments whose slot disappeared."""
    movable: list[int]
    """Other appointments the model may move (none at first; more as it widens)."""
    taken: dict[SessionKey, set[int]] = field(default_factory=dict)
    """Slots of a session's current list held by patients who stay put, or blocked."""
    staffing: dict[SiteSession, tuple[list[str], list[int]]] = field(default_factory=dict)
    """Site-sessions with a choice: the fixed lists' templates and the choosing spaces."""
    budgets: dict[tuple[str, StaffRole, tuple[int, int]], int] = field(default_factory=dict)
    """Person-sessions a site's role may add in an ISO week (overtime and freed crews)."""

    def describe(self) -> dict[str, object]:
        return {"sites": self.sites, "first_day": min(self.days, default=None),
                "last_day": max(self.days, default=None),
                "modalities": sorted(self.modalities),
                "room_sessions": len(self.spaces),
                "choices": sum(len(s.options) > 1 for s in self.spaces),
                "forced": len(self.forced), "movable": len(self.movable)}


def forced_patients(diary: Diary, gone: dict[SessionKey, str], now: datetime) -> list[int]:
    return sorted(a for key in gone for a in diary.booked_in.get(key, [])
                  if diary.bookings[a].start >= now)


def neighbourhood(diary: Diary, effects: Effects, closures: Closures, staff: StaffPicture,
                  settings: RepairSettings, movable: set[int], complete: bool = False
                  ) -> Neighbourhood:
    """The spaces to re-plan. `movable` appointments may move; with `complete`, every future
    appointment of the neighbourhood may."""
    now = diary.problem.now
    gone = effects.removed | closures.closed
    forced = forced_patients(diary, gone, now)
    modalities = {diary.bookings[a].request.modality for a in forced}
    sites = _sites(diary, effects, closures, settings, modalities)
    days = _days(effects, settings, now)
    if complete:
        movable = {a for key, ids in diary.booked_in.items() if key[1] in days
                   and diary.site_of(key[0]) in sites and key not in gone for a in ids
                   if diary.bookings[a].start >= now
                   and diary.rooms[key[0]].modality in modalities}
    hood = Neighbourhood(sorted(sites), days, modalities, [], forced, sorted(movable))
    families = {diary.bookings[a].family for a in forced + hood.movable}
    for room_id in sorted(r for r, room in diary.rooms.items()
                          if room.site_id in sites and room.modality in modalities):
        for day in days:
            for period in PERIODS:
                space = _space(diary, effects, gone, (room_id, day, period), families,
                               set(movable), staff)
                if space is not None:
                    hood.spaces.append(space)
    _taken(diary, hood, set(movable))
    _staffing(diary, effects, closures, hood)
    _budgets(diary, effects, closures, staff, hood)
    return hood


def _sites(diary: Diary, effects: Effects, closures: Closures, settings: RepairSettings,
           modalities: set[Modality]) -> set[str]:
    centres = set(effects.sites) | {diary.site_of(k[0]) for k in closures.closed}
    near = set()
    for site_id, site in diary.sites.items():
        if any(haversine_km(site.lat, site.lon, diary.sites[c].lat, diary.sites[c].lon)
               <= settings.radius_km for c in centres):
            near.add(site_id)
    with_rooms = {room.site_id for room in diary.rooms.values() if room.modality in modalities}
    return near & with_rooms


def _days(effects: Effects, settings: RepairSettings, now: datetime) -> list[date]:
    if not effects.days:
        return []
    today = now.astimezone(LONDON).date()
    first = max(today, min(effects.days) - timedelta(days=settings.days_before))
    last = max(effects.days) + timedelta(days=settings.days_after)
    return [first + timedelta(days=d) for d in range((last - first).days + 1)]


def _space(diary: Diary, effects: Effects, gone: dict[SessionKey, str], key: SessionKey,
           families: set[ExamFamily], movable: set[int], staff: StaffPicture) -> Space | None:
    room_id, day, period = key
    room = diary.rooms[room_id]
    site = diary.sites[room.site_id]
    if (room_id, day) in effects.down or not session_fits(site, day, period):
        return None
    if session_start(day, period) + timedelta(minutes=period.minutes) <= diary.problem.now:
        return None
    before = diary.plan.get(key)
    if key in effects.added:
        template_id = effects.added[key][0]
        return Space(key, room.site_id, before, template_id, (template_id,), (template_id,))
    if key in gone:
        return None
    current = before
    booked = diary.booked_in.get(key, [])
    others = sorted(t.template_id for t in diary.templates.values()
                    if t.template_id != current and room_can_run(room, t)
                    and period in t.periods and t.families & families
                    and _staffable(staff, room.site_id, key, t))
    kept = ((current,) if current else ())
    if current is not None and (diary.blocked.get(key) or any(
            diary.bookings[a].start < diary.problem.now for a in booked)):
        return Space(key, room.site_id, before, current, (current,), kept)
    possible = (*kept, *others)
    if current is not None and any(a not in movable for a in booked):
        return Space(key, room.site_id, before, current, (current,), possible)
    return Space(key, room.site_id, before, current, (current, *others,
                                                      *([None] if current else [])), possible)


def _staffable(staff: StaffPicture, site_id: str, key: SessionKey, template) -> bool:
    need, _ = crew_need(template)
    available = staff.available((site_id, key[1], key[2]))
    return any(a > 0 and g.role is need.role and need.skills <= g.skills
               for g, a in zip(staff.groups(site_id), available, strict=True))


def _taken(diary: Diary, hood: Neighbourhood, movable: set[int]) -> None:
    for space in hood.spaces:
        if space.current is None:
            continue
        slots = set(diary.blocked.get(space.key, set()))
        for a in diary.booked_in.get(space.key, []):
            if a not in movable:
                slots.update(diary.runs[a].slots())
        hood.taken[space.key] = slots


def _staffing(diary: Diary, effects: Effects, closures: Closures, hood: Neighbourhood) -> None:
    choosing: dict[SiteSession, list[int]] = defaultdict(list)
    for i, space in enumerate(hood.spaces):
        if len(space.options) > 1:
            choosing[(space.site_id, space.key[1], space.key[2])].append(i)
    running = running_lists(diary, effects)
    gone = effects.removed | closures.closed
    for where, spaces in choosing.items():
        variable = {hood.spaces[i].key for i in spaces}
        fixed = [template_id_of(diary, effects, k) for k in running.get(where, [])
                 if k not in variable and k not in gone]
        hood.staffing[where] = (fixed, spaces)


def _budgets(diary: Diary, effects: Effects, closures: Closures, staff: StaffPicture,
             hood: Neighbourhood) -> None:
    sites = {hood.spaces[i].site_id for _, spaces in hood.staffing.values() for i in spaces}
    weeks = {day.isocalendar()[:2] for day in hood.days}
    for site_id in sites:
        for role in StaffRole:
            for week in weeks:
                hood.budgets[(site_id, role, week)] = staff.overtime_budget(site_id, role)
    for key, _ in (effects.removed | closures.closed).items():
        template = diary.templates[diary.plan[key]]
        budget_key = (diary.site_of(key[0]), template.crew_role, key[1].isocalendar()[:2])
        if budget_key in hood.budgets:
            hood.budgets[budget_key] += template.crew_per_room

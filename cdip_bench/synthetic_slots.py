"""Diaries made up for benchmarks and tests: every room of a network runs a template it can run
in each session its site is open, for a number of weeks, with a share of slots already booked.
Until the optimiser's real diaries exist this is the slot table the eligibility engine is
measured on. Seeded, so a run can be repeated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from domain.network import Network, Room
from domain.session_templates import SessionTemplate, session_templates
from domain.vocabulary import SessionPeriod
from slot_rules.slot_request import LONDON
from slot_rules.slot_table import (
    MODALITY_CODE,
    SiteTable,
    SlotTable,
    capability_mask,
    epoch_minutes,
    family_mask,
)


@dataclass(frozen=True)
class SyntheticDiary:
    slots: SlotTable
    sites: SiteTable
    room_ids: tuple[str, ...]


def site_table(network: Network) -> SiteTable:
    sites = network.sites
    return SiteTable(
        site_ids=tuple(s.site_id for s in sites),
        lat=np.array([s.lat for s in sites]), lon=np.array([s.lon for s in sites]),
        step_free=np.array([s.step_free for s in sites]),
        hoist=np.array([s.hoist for s in sites]),
        age_limit_years=SiteTable.age_limits(s.age_limit_years for s in sites))


def synthetic_diary(network: Network, first_day: date, weeks: int = 6,
                    booked_share: float = 0.5, seed: int = 0,
                    templates: dict[str, SessionTemplate] | None = None) -> SyntheticDiary:
    """Slots for every open session of every room from `first_day` for `weeks` weeks."""
    rng = np.random.default_rng(seed)
    templates = templates if templates is not None else session_templates()
    sessions = _sessions(network, first_day, weeks, templates, rng)
    slots = _expand(sessions, rng, booked_share)
    return SyntheticDiary(slots, site_table(network), tuple(r.room_id for r in network.rooms))


def _runnable(room: Room, templates: dict[str, SessionTemplate]) -> list[SessionTemplate]:
    return [t for t in templates.values()
            if t.modality is room.modality and t.required_capabilities <= room.capabilities]


def _sessions(network: Network, first_day: date, weeks: int,
              templates: dict[str, SessionTemplate], rng: np.random.Generator) -> dict:
    site_index = {site.site_id: i for i, site in enumerate(network.sites)}
    columns: dict[str, list] = {k: [] for k in ("start", "room", "template")}
    template_list = list(templates.values())
    position = {t.template_id: i for i, t in enumerate(template_list)}
    runnable = {room.room_id: _runnable(room, templates) for room in network.rooms}
    for offset in range(weeks * 7):
        day = first_day + timedelta(days=offset)
        for period in SessionPeriod:
            start = epoch_minutes(datetime.combine(day, period.start, tzinfo=LONDON))
            for room_number, room in enumerate(network.rooms):
                hours = network.sites[site_index[room.site_id]].hours_on(day.weekday())
                if not (hours.is_open and hours.opens <= period.start
                        and period.end <= hours.closes):
                    continue
                options = [t for t in runnable[room.room_id] if period in t.periods]
                if not options:
                    continue
                chosen = options[rng.integers(len(options))]
                columns["start"].append(start)
                columns["room"].append(room_number)
                columns["template"].append(position[chosen.template_id])
    return {"columns": {k: np.array(v, dtype=np.int64) for k, v in columns.items()},
            "templates": template_list, "network": network, "site_index": site_index}


def _expand(sessions: dict, rng: np.random.Generator, booked_share: float) -> SlotTable:
    columns, templates, network = sessions["columns"], sessions["templates"], sessions["network"]
    rooms = network.rooms
    per_template = {name: np.array([getattr(t, attr) for t in templates]) for name, attr in
                    (("count", "total_slots"), ("minutes", "slot_minutes"),
                     ("radiologist", "radiologist_required"))}
    families = np.array([family_mask(t.families) for t in templates], dtype=np.uint32)
    room_site = np.array([sessions["site_index"][r.site_id] for r in rooms], dtype=np.int16)
    room_modality = np.array([MODALITY_CODE[r.modality] for r in rooms], dtype=np.int8)
    room_caps = np.array([capability_mask(r.capabilities) for r in rooms], dtype=np.uint16)
    room_weight = np.array([r.max_weight_kg for r in rooms], dtype=np.int16)

    template = columns["template"]
    counts = per_template["count"][template]
    session_of_slot = np.repeat(np.arange(len(template)), counts)
    first_slot = np.cumsum(counts) - counts
    order_in_session = np.arange(len(session_of_slot)) - first_slot[session_of_slot]
    length = per_template["minutes"][template][session_of_slot].astype(np.int32)
    room = columns["room"][session_of_slot].astype(np.int32)
    booked = rng.random(len(room)) < booked_share
    last_in_session = order_in_session == (counts[session_of_slot] - 1)
    return SlotTable(
        start_min=columns["start"][session_of_slot] + order_in_session * length,
        length_min=length, site=room_site[room], room=room, modality=room_modality[room],
        room_capabilities=room_caps[room], room_max_weight_kg=room_weight[room],
        template_families=families[template][session_of_slot],
        radiologist_present=per_template["radiologist"][template][session_of_slot].astype(bool),
        free_run_min=free_run_minutes(length, booked, last_in_session))


def free_run_minutes(length: np.ndarray, booked: np.ndarray,
                     last_in_session: np.ndarray) -> np.ndarray:
    """Minutes of consecutive free slots from each slot to the next booked slot or session end.

    Slots must be ordered by session, then time. Each slot's 'break' is itself if booked, the
    next position if it ends its session; the nearest break at or after a slot ends its run."""
    n = len(length)
    positions = np.arange(n)
    breaks = np.where(booked, positions, np.where(last_in_session, positions + 1, n))
    next_break = np.minimum.accumulate(breaks[::-1])[::-1]
    before = np.concatenate(([0], np.cumsum(length, dtype=np.int64)))
    return (before[next_break] - before[positions]).astype(np.int32)

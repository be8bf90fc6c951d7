"""Where a moving patient could go: every slot of every list a neighbourhood space may run, as
one slot table judged by the same slot-eligibility rules as search and booking (so a move never
lands where a clerk could not book), minus slots held by patients who stay; with what each
placement costs the patient (days later, km further, days past their breach date)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from domain.geography import haversine_km
from domain.network import Network
from optimiser.repair.diary import Diary, session_start, slot_families
from optimiser.repair.neighbourhood import Neighbourhood
from optimiser.repair.problem import Booking
from slot_rules.eligibility import Eligibility, EligibilityRuleset
from slot_rules.slot_table import (
    FAMILY_BIT,
    MODALITY_CODE,
    SiteTable,
    SlotTable,
    capability_mask,
    epoch_minutes,
)

DAY_LATER = 10
"""Cost per day later, times the priority weight (1–8)."""
DAY_EARLIER = 3
KM_FURTHER = 1
DAY_PAST_BREACH = 50


@dataclass(frozen=True)
class Candidates:
    """A patient's possible placements: rows of the positions table, slots each needs, cost."""

    rows: np.ndarray
    slots: np.ndarray
    cost: np.ndarray
    eligible: np.ndarray
    """Rows passing the rules (and long enough for the exam), whoever holds them."""
    verdict: Eligibility | None
    missing: str | None = None
    """Why nothing was left to judge by the rules (no list of the modality or family, nothing
    far enough ahead), if so."""

    def index_of(self, row: int) -> int:
        """Position of a row among `rows` (which are kept in ascending order)."""
        i = int(np.searchsorted(self.rows, row))
        if i == len(self.rows) or self.rows[i] != row:
            raise KeyError(f"row {row} is not a candidate")
        return i


class Positions:
    """Rows: (space, list, slot index) for every list a space could run."""

    def __init__(self, diary: Diary, hood: Neighbourhood, rules: EligibilityRuleset,
                 notice_hours: float = 0.0) -> None:
        self.diary, self.hood, self.rules = diary, hood, rules
        self.notice_hours = notice_hours
        self.earliest_min = epoch_minutes(diary.problem.now) + round(60 * notice_hours)
        self.sites = _site_table(diary.problem.network)
        self.site_index = {s: i for i, s in enumerate(self.sites.site_ids)}
        self.room_index = {r.room_id: i for i, r in enumerate(diary.problem.network.rooms)}
        self.space_of = {space.key: s for s, space in enumerate(hood.spaces)}
        blocks = [(s, t) for s, space in enumerate(hood.spaces) for t in space.possible]
        self._build(blocks)
        self.optional = np.array([t in hood.spaces[s].options for s, t in blocks] or [False],
                                 dtype=bool)[self.block_of]
        """Rows of lists the space may run in this model (the rest only bound the optimum)."""
        self._cache: dict[tuple, Eligibility] = {}
        taken = np.zeros(len(self.space) + 1, dtype=np.int64)
        for s, space in enumerate(hood.spaces):
            if (s, space.current) in self.blocks:
                first, _ = self.blocks[(s, space.current)]
                for slot in hood.taken.get(space.key, ()):
                    taken[first + slot] = 1
        self._taken_before = np.concatenate(([0], np.cumsum(taken)))

    def _build(self, blocks: list[tuple[int, str]]) -> None:
        """One block of rows per (space, list): its slots in order, columns built at once."""
        templates, rooms, spaces = self.diary.templates, self.diary.rooms, self.hood.spaces
        count = np.array([templates[t].total_slots for _, t in blocks], dtype=np.int64)
        minutes = np.array([templates[t].slot_minutes for _, t in blocks], dtype=np.int64)
        first = np.cumsum(count) - count
        self.blocks = {block: (int(f), int(n)) for block, f, n in zip(blocks, first, count,
                                                                      strict=True)}
        block_of = np.repeat(np.arange(len(blocks)), count)
        self.block_of, self.block_list = block_of, blocks
        """Row → its block; block → (space, list)."""
        self.index = np.arange(int(count.sum()), dtype=np.int64) - first[block_of]
        room_of = [rooms[spaces[s].key[0]] for s, _ in blocks]
        per_block = {
            "space": [s for s, _ in blocks],
            "start": [epoch_minutes(session_start(*spaces[s].key[1:])) for s, _ in blocks],
            "day": [spaces[s].key[1].toordinal() for s, _ in blocks],
            "site": [self.site_index[r.site_id] for r in room_of],
            "room": [self.room_index[r.room_id] for r in room_of],
            "modality": [MODALITY_CODE[r.modality] for r in room_of],
            "room_capabilities": [capability_mask(r.capabilities) for r in room_of],
            "room_max_weight_kg": [r.max_weight_kg for r in room_of],
            "radiologist_present": [templates[t].radiologist_required for _, t in blocks],
        }
        column = {name: np.array(values, dtype=np.int64)[block_of]
                  for name, values in per_block.items()}
        self.space, self.day_number = column.pop("space"), column.pop("day")
        self.template = np.array([t for _, t in blocks], dtype=object)[block_of]
        step = minutes[block_of]
        patterns = {t: np.array([FAMILY_BIT[f] for f in slot_families(templates[t])])
                    for t in {t for _, t in blocks}}
        families = (np.concatenate([patterns[t] for _, t in blocks]) if blocks
                    else np.zeros(0, dtype=np.int64))
        self.table = SlotTable(
            start_min=column.pop("start") + self.index * step,
            length_min=step.astype(np.int32),
            template_families=families.astype(np.uint32),
            free_run_min=((count[block_of] - self.index) * step).astype(np.int32),
            **{name: values.astype(_DTYPES[name]) for name, values in column.items()})

    def __len__(self) -> int:
        return len(self.space)

    @cached_property
    def by_modality(self) -> dict[int, np.ndarray]:
        return {code: np.flatnonzero(self.table.modality == code) for code in
                np.unique(self.table.modality).tolist()}

    def candidates(self, appointment_id: int) -> Candidates:
        booking = self.diary.bookings[appointment_id]
        rows, missing = self._considered(booking)
        verdict = self.verdict(booking, rows)
        eligible = rows[verdict.mask] if verdict is not None else rows
        slots = self._slots_needed(booking, eligible)
        fits = slots <= self.table.free_run_min[eligible] // self.table.length_min[eligible]
        eligible, slots = eligible[fits], slots[fits]
        free = self._taken_before[eligible + slots] == self._taken_before[eligible]
        own = self.own_row(appointment_id)
        if own is not None:
            free &= eligible != own
        free &= self.optional[eligible]
        rows, slots = eligible[free], slots[free]
        return Candidates(rows, slots, self._cost(booking, rows), eligible, verdict, missing)

    def _considered(self, booking: Booking) -> tuple[np.ndarray, str | None]:
        """Rows worth judging by the rules: the exam's modality, its family (when a rule in
        force asks for it), far enough ahead to tell the patient; and, if none is left, why."""
        request = booking.request
        rows = self.by_modality.get(MODALITY_CODE[request.modality], np.zeros(0, np.int64))
        if len(rows) == 0:
            return rows, f"no {request.modality} lists in the neighbourhood"
        if self._family_rule_applies(booking):
            rows = rows[(self.table.template_families[rows] & FAMILY_BIT[booking.family]) != 0]
            if len(rows) == 0:
                return rows, f"no list in the neighbourhood could run {booking.family} exams"
        rows = rows[self.table.start_min[rows] >= self.earliest_min]
        if len(rows) == 0:
            return rows, (f"no slot in the neighbourhood starts {self.notice_hours:g} hours "
                          f"or more from now")
        return rows, None

    def _family_rule_applies(self, booking: Booking) -> bool:
        """Whether a rule in force turns away slots of other families for this booking (then
        only its family's slots need judging)."""
        overridden = {o.rule_id for o in booking.overrides}
        return any(rule.check.name == "template_allows_family" and rule.rule_id not in overridden
                   for rule in self.rules.active_rules(self.diary.problem.now))

    def verdict(self, booking: Booking, rows: np.ndarray) -> Eligibility | None:
        if len(rows) == 0:
            return None
        key = (booking.request, booking.overrides, int(rows[0]), len(rows), int(rows[-1]))
        if key not in self._cache:
            self._cache[key] = self.rules.evaluate(self.table.take(rows), self.sites,
                                                   booking.request, self.diary.problem.now,
                                                   booking.overrides)
        return self._cache[key]

    def _add_block(self, s: int, template_id: str, columns: dict[str, list]) -> None:
        space = self.hood.spaces[s]
        template = self.diary.templates[template_id]
        room = self.diary.rooms[space.key[0]]
        _, day, period = space.key
        start = epoch_minutes(session_start(day, period))
        families = slot_families(template)
        self.blocks[(s, template_id)] = (len(columns["space"]), template.total_slots)
        n, minutes = template.total_slots, template.slot_minutes
        for i, family in enumerate(families):
            columns["space"].append(s)
            columns["template"].append(template_id)
            columns["index"].append(i)
            columns["day"].append(day.toordinal())
            columns["start_min"].append(start + i * minutes)
            columns["length_min"].append(minutes)
            columns["site"].append(self.site_index[room.site_id])
            columns["room"].append(self.room_index[room.room_id])
            columns["modality"].append(MODALITY_CODE[room.modality])
            columns["room_capabilities"].append(capability_mask(room.capabilities))
            columns["room_max_weight_kg"].append(room.max_weight_kg)
            columns["template_families"].append(FAMILY_BIT[family])
            columns["radiologist_present"].append(template.radiologist_required)
            columns["free_run_min"].append((n - i) * minutes)

    def _slots_needed(self, booking: Booking, rows: np.ndarray) -> np.ndarray:
        return -(-booking.request.duration_min // self.table.length_min[rows].astype(np.int64))

    def own_row(self, appointment_id: int) -> int | None:
        """The row of the patient's own first slot, if its list is in the neighbourhood
        (staying there is a separate choice, not a candidate)."""
        run = self.diary.runs[appointment_id]
        s = self.space_of.get(run.key)
        if s is None or (s, self.hood.spaces[s].current) not in self.blocks:
            return None
        return self.blocks[(s, self.hood.spaces[s].current)][0] + run.first

    def _cost(self, booking: Booking, rows: np.ndarray) -> np.ndarray:
        run = self.diary.runs[booking.appointment_id]
        old_day = run.key[1].toordinal()
        days = self.day_number[rows] - old_day
        weight = booking.priority.weight
        cost = np.where(days > 0, DAY_LATER * weight * days, -DAY_EARLIER * days)
        if booking.breach_date is not None:
            limit = max(booking.breach_date.toordinal(), old_day)
            cost = cost + DAY_PAST_BREACH * np.maximum(0, self.day_number[rows] - limit)
        km = self.extra_km(booking, self.table.site[rows])
        if km is not None:
            cost = cost + np.round(KM_FURTHER * np.maximum(0.0, km)).astype(np.int64)
        return cost.astype(np.int64)

    def extra_km(self, booking: Booking, sites: np.ndarray) -> np.ndarray | None:
        request = booking.request
        if request.home_lat is None:
            return None
        km = np.atleast_1d(haversine_km(request.home_lat, request.home_lon,
                                        self.sites.lat, self.sites.lon))
        old = km[self.site_index[self.diary.site_of(booking.room_id)]]
        return km[sites] - old


def _site_table(network: Network) -> SiteTable:
    """The network's sites as the slot rules read them."""
    sites = network.sites
    return SiteTable(
        site_ids=tuple(s.site_id for s in sites), lat=np.array([s.lat for s in sites]),
        lon=np.array([s.lon for s in sites]), step_free=np.array([s.step_free for s in sites]),
        hoist=np.array([s.hoist for s in sites]),
        age_limit_years=SiteTable.age_limits(s.age_limit_years for s in sites))


_DTYPES = {"start_min": np.int64, "length_min": np.int32, "site": np.int16, "room": np.int32,
           "modality": np.int8, "room_capabilities": np.uint16, "room_max_weight_kg": np.int16,
           "template_families": np.uint32, "radiologist_present": bool,
           "free_run_min": np.int32}

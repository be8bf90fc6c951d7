"""The floor every repair starts from: move each displaced patient, most urgent and tightest
window first, to their cheapest free eligible slot in a list that runs; failing that, open a
list where a room is idle and staff allow; failing that, leave them for the worklist. Fast,
always valid, and the hint the solver starts from."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction

import numpy as np

from domain.vocabulary import Priority
from optimiser.repair.diary import Diary
from optimiser.repair.solution import Context, Plan, levels
from optimiser.repair.staffing import StaffPicture, crew_need, needs_of, shortfall

FAR = date.max
SHORTLIST = 12
"""Lists weighed by how many waiting patients they would really take, per opening."""


def greedy_plan(context: Context, staff: StaffPicture, allowed: dict) -> Plan:
    """Everyone who fits into the lists that run; then, unless lists are fixed, the better of
    two ways of opening lists for the rest: each patient in turn opening their cheapest, or
    the list that takes most of those waiting first."""
    plans = [_greedy(context, staff, allowed, None)]
    if not context.lists_fixed:
        plans += [_greedy(context, staff, allowed, opening)
                  for opening in ("each patient", "most patients")]
    return min(plans, key=lambda plan: plan.levels)


def _greedy(context: Context, staff: StaffPicture, allowed: dict, opening: str | None) -> Plan:
    diary = context.positions.diary
    state = _State(context, staff, allowed)
    order = sorted(context.hood.forced, key=lambda a: _urgency(diary, a))
    place: dict[int, int | None] = {a: state.place(a) for a in order}
    waiting = [a for a in order if place[a] is None]
    if opening == "each patient":
        for a in waiting:
            row = state.place(a)
            place[a] = row if row is not None else state.open_for(a)
    elif opening == "most patients":
        state.open_for_most(waiting, place)
    choice = dict(state.choice)
    return Plan("greedy", "done", choice, place, levels(context, choice, place))


def _urgency(diary: Diary, appointment_id: int) -> tuple:
    booking = diary.bookings[appointment_id]
    request = booking.request
    latest = request.latest_date or FAR
    if request.priority is Priority.TWO_WEEK_WAIT and request.referral_date is not None:
        latest = min(latest, request.referral_date + timedelta(days=14))
    return (-booking.priority.weight, latest, booking.start, appointment_id)


class _State:
    """Lists chosen so far and which rows (slots) are taken, as arrays over the positions
    table, so a patient's cheapest free run is found in a few vector operations."""

    def __init__(self, context: Context, staff: StaffPicture, allowed: dict) -> None:
        self.context, self.staff, self.allowed = context, staff, allowed
        hood, positions = context.hood, context.positions
        self.choice = {s: space.current for s, space in enumerate(hood.spaces)}
        self.running = np.array([space.current or "" for space in hood.spaces], dtype=object)
        self.busy = np.zeros(len(positions) + 1, dtype=np.int64)
        for s, space in enumerate(hood.spaces):
            if space.current is not None:
                first, _ = positions.blocks[(s, space.current)]
                for slot in hood.taken.get(space.key, ()):
                    self.busy[first + slot] = 1
        for a in hood.movable:  # they stay put here; the solver may move them
            run = positions.diary.runs[a]
            s = positions.space_of[run.key]
            first, _ = positions.blocks[(s, hood.spaces[s].current)]
            self.busy[first + run.first:first + run.first + run.count] = 1
        self._busy_before: np.ndarray | None = None
        self._order: dict[int, np.ndarray] = {}
        self.used: dict[tuple, int] = defaultdict(int)
        self.cannot_open: set[tuple] = set()
        """(site-session, list) that could not be staffed: opening more never helps."""
        self._needs: dict[tuple, dict] = {}
        self.site_session_of = {i: where for where, (_, spaces) in hood.staffing.items()
                                for i in spaces}

    def place(self, appointment_id: int) -> int | None:
        """The patient's cheapest free run in a list that runs, taken; None if none."""
        candidates = self.context.candidates[appointment_id]
        positions = self.context.positions
        order = self._cheapest_first(appointment_id)
        rows, slots = candidates.rows[order], candidates.slots[order]
        if self._busy_before is None:
            self._busy_before = np.concatenate(([0], np.cumsum(self.busy)))
        ok = positions.template[rows] == self.running[positions.space[rows]]
        ok &= self._busy_before[rows + slots] == self._busy_before[rows]
        if not ok.any():
            return None
        i = int(np.argmax(ok))
        row = int(rows[i])
        self.busy[row:row + int(slots[i])] = 1
        self._busy_before = None
        return row

    def open_for(self, appointment_id: int) -> int | None:
        """Open the patient's cheapest list that staff allow, and place them in it."""
        candidates = self.context.candidates[appointment_id]
        positions = self.context.positions
        for i in self._cheapest_first(appointment_id):
            s, template_id = int(positions.space[candidates.rows[i]]), positions.template[
                candidates.rows[i]]
            if self.choice[s] is None and self._can_open(s, template_id):
                self._open(s, template_id)
                return self.place(appointment_id)
        return None

    def open_for_most(self, waiting: list[int], place: dict[int, int | None]) -> None:
        """Open, one at a time, the list that would take the most priority weight of those
        waiting (of the SHORTLIST most wanted), and place them in it."""
        positions = self.context.positions
        weight = {a: positions.diary.bookings[a].priority.weight for a in waiting}
        blocks = {a: np.unique(positions.block_of[self.context.candidates[a].rows])
                  for a in waiting}
        while waiting:
            wanted: dict[int, int] = defaultdict(int)
            for a in waiting:
                for b in blocks[a].tolist():
                    if self.choice[positions.block_list[b][0]] is None:
                        wanted[b] += weight[a]
            shortlist = [b for b in sorted(wanted, key=lambda b: (-wanted[b], b))
                         if self._can_open(*positions.block_list[b])][:SHORTLIST]
            if not shortlist:
                return
            best = max(shortlist, key=lambda b: (self._would_take(b, waiting, weight), -b))
            self._open(*positions.block_list[best])
            for a in waiting:
                place[a] = self.place(a)
            waiting = [a for a in waiting if place[a] is None]

    def _would_take(self, block: int, waiting: list[int], weight) -> int:
        """Priority weight of the waiting patients a newly opened list would take (each in
        its earliest free run: within one list the cost does not depend on the time)."""
        positions = self.context.positions
        first, count = positions.blocks[positions.block_list[block]]
        taken: set[int] = set()
        total = 0
        for a in waiting:
            candidates = self.context.candidates[a]
            low, high = np.searchsorted(candidates.rows, [first, first + count])
            for row, slots in zip(candidates.rows[low:high].tolist(),
                                  candidates.slots[low:high].tolist(), strict=True):
                run = set(range(row, row + slots))
                if not run & taken:
                    taken |= run
                    total += weight[a]
                    break
        return total

    def _cheapest_first(self, appointment_id: int) -> np.ndarray:
        if appointment_id not in self._order:
            candidates = self.context.candidates[appointment_id]
            self._order[appointment_id] = np.lexsort((candidates.rows, candidates.cost))
        return self._order[appointment_id]

    def _can_open(self, s: int, template_id: str) -> bool:
        where = self.site_session_of.get(s)
        if where is None or (where, template_id) in self.cannot_open:
            return False
        templates = self.context.positions.diary.templates
        need, crew = crew_need(templates[template_id])
        budget_key = (where[0], need.role, where[1].isocalendar()[:2])
        if self.used[budget_key] + crew > self.context.hood.budgets.get(budget_key, 0):
            return False
        needs = dict(self._needs_at(where))
        for key, amount in needs_of(templates[template_id]):
            needs[key] = needs.get(key, 0) + amount
        whole = {key: math.ceil(amount) for key, amount in needs.items()}
        if shortfall(whole, self.staff.groups(where[0]),
                     self.staff.available(where)) > self.allowed.get(where, 0):
            self.cannot_open.add((where, template_id))
            return False
        return True

    def _needs_at(self, where) -> dict:
        """What the lists now running at a site-session ask of staff (kept until one opens)."""
        if where not in self._needs:
            templates = self.context.positions.diary.templates
            fixed, spaces = self.context.hood.staffing[where]
            running = [templates[t] for t in fixed] + [templates[self.choice[i]]
                                                       for i in spaces if self.choice[i]]
            total: dict = defaultdict(Fraction)
            for template in running:
                for key, amount in needs_of(template):
                    total[key] += amount
            self._needs[where] = total
        return self._needs[where]

    def _open(self, s: int, template_id: str) -> None:
        where = self.site_session_of[s]
        templates = self.context.positions.diary.templates
        need, crew = crew_need(templates[template_id])
        self.used[(where[0], need.role, where[1].isocalendar()[:2])] += crew
        self._needs.pop(where, None)
        self.choice[s] = template_id
        self.running[s] = template_id

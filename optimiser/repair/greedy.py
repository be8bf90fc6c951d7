"""The floor every repair starts from: move each displaced patient, most urgent and tightest
window first, to their cheapest free eligible slot in a list that runs; failing that, open a
list where a room is idle and staff allow; failing that, leave them for the worklist. Fast,
always valid, and the hint the solver starts from."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import numpy as np

from domain.vocabulary import Priority
from optimiser.repair.diary import Diary
from optimiser.repair.solution import Context, Plan, levels
from optimiser.repair.staffing import StaffPicture, crew_need, people_needed, shortfall

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
            place[a] = state.place(a) or state.open_for(a)
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
    def __init__(self, context: Context, staff: StaffPicture, allowed: dict) -> None:
        self.context, self.staff, self.allowed = context, staff, allowed
        hood = context.hood
        self.choice = {s: space.current for s, space in enumerate(hood.spaces)}
        self.taken: dict[tuple[int, str], set[int]] = defaultdict(set)
        for s, space in enumerate(hood.spaces):
            if space.current is not None:
                self.taken[(s, space.current)] = set(hood.taken.get(space.key, set()))
        positions = context.positions
        for a in hood.movable:  # they stay put here; the solver may move them
            run = positions.diary.runs[a]
            s = positions.space_of[run.key]
            self.taken[(s, hood.spaces[s].current)].update(run.slots())
        self.used: dict[tuple, int] = defaultdict(int)
        self.cannot_open: set[tuple] = set()
        """(site-session, list) that could not be staffed: opening more never helps."""
        self.site_session_of = {i: where for where, (_, spaces) in hood.staffing.items()
                                for i in spaces}

    def place(self, appointment_id: int) -> int | None:
        """The patient's cheapest free run in a list that runs, taken; None if none."""
        candidates = self.context.candidates[appointment_id]
        positions = self.context.positions
        for i in np.lexsort((candidates.rows, candidates.cost)):
            row, count = int(candidates.rows[i]), int(candidates.slots[i])
            s, template_id = int(positions.space[row]), positions.template[row]
            first = int(positions.index[row])
            if self.choice[s] == template_id and self._free(s, template_id, first, count):
                self._take(s, template_id, first, count)
                return row
        return None

    def open_for(self, appointment_id: int) -> int | None:
        """Open the patient's cheapest list that staff allow, and place them in it."""
        candidates = self.context.candidates[appointment_id]
        positions = self.context.positions
        for i in np.lexsort((candidates.rows, candidates.cost)):
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
        while waiting:
            wanted: dict[tuple[int, str], int] = defaultdict(int)
            for a in waiting:
                rows = self.context.candidates[a].rows
                for option in {(int(positions.space[r]), positions.template[r]) for r in rows
                               if self.choice[int(positions.space[r])] is None}:
                    wanted[option] += weight[a]
            shortlist = [o for o in sorted(wanted, key=lambda o: (-wanted[o], o))
                         if self._can_open(*o)][:SHORTLIST]
            if not shortlist:
                return
            best = max(shortlist, key=lambda o: (self._would_take(o, waiting, weight), -o[0]))
            self._open(*best)
            for a in waiting:
                place[a] = self.place(a)
            waiting = [a for a in waiting if place[a] is None]

    def _would_take(self, option: tuple[int, str], waiting: list[int], weight) -> int:
        """Priority weight of the waiting patients a newly opened list would take."""
        s, template_id = option
        positions = self.context.positions
        taken: set[int] = set()
        total = 0
        for a in waiting:
            candidates = self.context.candidates[a]
            for row, count in zip(candidates.rows, candidates.slots, strict=True):
                if int(positions.space[row]) != s or positions.template[row] != template_id:
                    continue
                run = set(range(int(positions.index[row]), int(positions.index[row]) + count))
                if not run & taken:
                    taken |= run
                    total += weight[a]
                    break
        return total

    def _free(self, s: int, template_id: str, first: int, count: int) -> bool:
        taken = self.taken[(s, template_id)]
        return not any(first + k in taken for k in range(count))

    def _take(self, s: int, template_id: str, first: int, count: int) -> None:
        self.taken[(s, template_id)].update(range(first, first + count))

    def _can_open(self, s: int, template_id: str) -> bool:
        where = self.site_session_of.get(s)
        if where is None:
            return False
        hood = self.context.hood
        templates = self.context.positions.diary.templates
        if (where, template_id) in self.cannot_open:
            return False
        need, crew = crew_need(templates[template_id])
        budget_key = (where[0], need.role, where[1].isocalendar()[:2])
        if self.used[budget_key] + crew > hood.budgets.get(budget_key, 0):
            return False
        fixed, spaces = hood.staffing[where]
        running = [templates[t] for t in fixed] + [templates[self.choice[i]] for i in spaces
                                                   if self.choice[i] is not None]
        running.append(templates[template_id])
        groups, available = self.staff.groups(where[0]), self.staff.available(where)
        if shortfall(people_needed(running), groups, available) > self.allowed.get(where, 0):
            self.cannot_open.add((where, template_id))
            return False
        return True

    def _open(self, s: int, template_id: str) -> None:
        where = self.site_session_of[s]
        templates = self.context.positions.diary.templates
        need, crew = crew_need(templates[template_id])
        self.used[(where[0], need.role, where[1].isocalendar()[:2])] += crew
        self.choice[s] = template_id

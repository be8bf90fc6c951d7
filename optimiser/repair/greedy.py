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


def greedy_plan(context: Context, staff: StaffPicture, allowed: dict) -> Plan:
    hood, positions = context.hood, context.positions
    diary = positions.diary
    state = _State(context, staff, allowed)
    place: dict[int, int | None] = {}
    for a in sorted(hood.forced, key=lambda a: _urgency(diary, a)):
        place[a] = state.place(a)
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
        candidates = self.context.candidates[appointment_id]
        order = np.lexsort((candidates.rows, candidates.cost))
        positions = self.context.positions
        closed_options = []
        for i in order:
            row, count = int(candidates.rows[i]), int(candidates.slots[i])
            s, template_id = int(positions.space[row]), positions.template[row]
            first = int(positions.index[row])
            if self.choice[s] == template_id:
                if self._free(s, template_id, first, count):
                    self._take(s, template_id, first, count)
                    return row
            elif self.choice[s] is None and not self.context.lists_fixed:
                closed_options.append((row, count, s, template_id, first))
        for row, count, s, template_id, first in closed_options:
            if self.choice[s] is None and self._can_open(s, template_id):
                self._open(s, template_id)
                self._take(s, template_id, first, count)
                return row
        return None

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

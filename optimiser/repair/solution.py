"""A repaired plan of one neighbourhood before it is put into words: the list each space runs
and where each moving patient goes, with its lexicographic score (unplaced, excess moves,
changed lists, cost to patients), smaller being better at each level in turn."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from optimiser.repair.neighbourhood import Neighbourhood
from optimiser.repair.positions import Candidates, Positions

EXCESS_MOVE_COST = 3
"""Moving a patient whose slot still exists costs as much as leaving 3 points of priority
unplaced (two-week-wait 8, urgent 4, routine 2, planned 1): another booked patient is moved
to make room only for an urgent or two-week-wait patient, two at most for the latter."""
MIN_PER_PATIENT = 30
"""A pruned model still offers each patient this many placements."""


@dataclass
class Context:
    """A neighbourhood with its positions and each moving patient's candidates."""

    hood: Neighbourhood
    positions: Positions
    candidates: dict[int, Candidates]
    lists_fixed: bool = False
    """Every space runs its current list: no list opens, closes or changes."""

    def running_only(self) -> Context:
        """The same neighbourhood with every list as it is, and placements only in them."""
        positions = self.positions
        current = np.array([s.current or "" for s in self.hood.spaces], dtype=object)
        kept = {}
        for a, c in self.candidates.items():
            mask = positions.template[c.rows] == current[positions.space[c.rows]]
            kept[a] = replace(c, rows=c.rows[mask], slots=c.slots[mask], cost=c.cost[mask])
        return Context(self.hood, positions, kept, lists_fixed=True)

    def pruned(self, most: int, keep: Plan) -> Context:
        """At most about `most` placements in all: each patient's cheapest ones (and the one
        `keep` gives them), so a model fits the time left."""
        total = sum(len(c.rows) for c in self.candidates.values())
        if total <= most or not self.candidates:
            return self
        each = max(MIN_PER_PATIENT, most // len(self.candidates))
        kept = {}
        for a, c in self.candidates.items():
            if len(c.rows) <= each:
                kept[a] = c
                continue
            order = np.lexsort((c.rows, c.cost))[:each]
            wanted = keep.place.get(a)
            if wanted is not None and wanted not in c.rows[order]:
                order = np.append(order, c.index_of(int(wanted)))
            order = np.sort(order)  # rows stay in ascending order
            kept[a] = replace(c, rows=c.rows[order], slots=c.slots[order], cost=c.cost[order])
        return Context(self.hood, self.positions, kept, self.lists_fixed)

    def no_eligible_slot(self) -> int:
        """Priority weight of displaced patients no slot of any list here could take: the
        least any plan of this neighbourhood leaves unplaced."""
        bookings = self.positions.diary.bookings
        return sum(bookings[a].priority.weight for a in self.hood.forced
                   if len(self.candidates[a].eligible) == 0)

    def cost_of(self, appointment_id: int, row: int) -> int:
        candidates = self.candidates[appointment_id]
        return int(candidates.cost[candidates.index_of(row)])


@dataclass
class Plan:
    method: str
    status: str
    choice: dict[int, str | None]
    """Space index → the list it runs (every space)."""
    place: dict[int, int | None]
    """Moving appointment → first row of its new run; None: unplaced. A movable patient who
    stays is absent."""
    levels: tuple[int, int, int] = (0, 0, 0)
    """(disruption, changed lists, patients' cost), compared in that order: disruption is the
    priority weight left unplaced plus EXCESS_MOVE_COST per excess move."""
    log: list[str] = field(default_factory=list)


def counts(context: Context, place: dict[int, int | None]) -> tuple[int, int]:
    """Priority weight left unplaced, and excess moves."""
    forced = set(context.hood.forced)
    bookings = context.positions.diary.bookings
    unplaced = sum(bookings[a].priority.weight for a, row in place.items() if row is None)
    return unplaced, sum(1 for a in place if a not in forced)


def levels(context: Context, choice: dict[int, str | None],
           place: dict[int, int | None]) -> tuple[int, int, int]:
    unplaced, excess = counts(context, place)
    changed = sum(choice[s] != space.current for s, space in enumerate(context.hood.spaces))
    cost = sum(context.cost_of(a, row) for a, row in place.items() if row is not None)
    return unplaced + EXCESS_MOVE_COST * excess, changed, cost

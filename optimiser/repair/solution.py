"""A repaired plan of one neighbourhood before it is put into words: the list each space runs
and where each moving patient goes, with its lexicographic score (unplaced, excess moves,
changed lists, cost to patients), smaller being better at each level in turn."""

from __future__ import annotations

from dataclasses import dataclass, field

from optimiser.repair.neighbourhood import Neighbourhood
from optimiser.repair.positions import Candidates, Positions


@dataclass
class Context:
    """A neighbourhood with its positions and each moving patient's candidates."""

    hood: Neighbourhood
    positions: Positions
    candidates: dict[int, Candidates]

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
    levels: tuple[int, int, int, int] = (0, 0, 0, 0)
    log: list[str] = field(default_factory=list)


def levels(context: Context, choice: dict[int, str | None],
           place: dict[int, int | None]) -> tuple[int, int, int, int]:
    hood = context.hood
    forced = set(hood.forced)
    unplaced = sum(context.positions.diary.bookings[a].priority.weight
                   for a, row in place.items() if row is None)
    excess = sum(1 for a in place if a not in forced)
    changed = sum(choice[s] != space.current for s, space in enumerate(hood.spaces))
    cost = sum(context.cost_of(a, row) for a, row in place.items() if row is not None)
    return unplaced, excess, changed, cost


def staying_plan(context: Context, method: str) -> Plan:
    """Every list as it is, every forced patient unplaced: the plan if nothing is done."""
    choice = {s: space.current for s, space in enumerate(context.hood.spaces)}
    place: dict[int, int | None] = dict.fromkeys(context.hood.forced)
    return Plan(method, "nothing done", choice, place, levels(context, choice, place))


"""Diary build with CP-SAT: the weekly room-session plan across the network from demand and
staff availability, with its own lower bound and a greedy baseline. Repair of a diary after a
disruption and backfill candidate ranking are planned (issues 15 and 18). Imports only
`domain` and `slot_rules`."""

from optimiser.build import build_diary
from optimiser.problem import (
    DemandRow,
    DiaryInputError,
    DiaryPlan,
    DiaryProblem,
    RoomSession,
    Weights,
)

__all__ = ["DemandRow", "DiaryInputError", "DiaryPlan", "DiaryProblem", "RoomSession", "Weights",
           "build_diary"]

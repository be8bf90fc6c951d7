"""Diary build with CP-SAT: the weekly room-session plan across the network from demand and
staff availability, with its own lower bound and a greedy baseline; and its repair after a
disruption, moving the fewest booked patients (`optimiser.repair`). Backfill candidate ranking
is planned (issue 18). Imports only `domain` and `slot_rules`."""

from optimiser.build import build_diary
from optimiser.problem import (
    DemandRow,
    DiaryInputError,
    DiaryPlan,
    DiaryProblem,
    RoomSession,
    Weights,
)
from optimiser.repair import RepairInputError, RepairProblem, RepairResult, repair_diary

__all__ = ["DemandRow", "DiaryInputError", "DiaryPlan", "DiaryProblem", "RepairInputError",
           "RepairProblem", "RepairResult", "RoomSession", "Weights", "build_diary",
           "repair_diary"]

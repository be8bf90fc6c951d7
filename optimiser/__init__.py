"""CP-SAT diary build and repair, slot generation, batch assignment and backfill candidate
ranking. Imports only `domain` and `slot_rules`."""

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

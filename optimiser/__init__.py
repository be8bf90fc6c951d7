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
from optimiser.repair import RepairInputError, RepairProblem, RepairResult, repair_diary

__all__ = ["DemandRow", "DiaryInputError", "DiaryPlan", "DiaryProblem", "RepairInputError",
           "RepairProblem", "RepairResult", "RoomSession", "Weights", "build_diary",
           "repair_diary"]

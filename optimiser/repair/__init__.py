"""Diary repair: when a room goes down, staff are short or a list is cancelled or added,
re-plan only the neighbourhood it touches, moving the fewest booked patients."""

from optimiser.repair.check import check_repair
from optimiser.repair.problem import (
    BlockedSlot,
    Booking,
    Disruption,
    ExtraList,
    RepairInputError,
    RepairProblem,
    RepairSettings,
    RoomDown,
    SessionCancelled,
    SiteClosed,
    StaffShort,
)
from optimiser.repair.repair import repair_diary
from optimiser.repair.result import Move, Place, RepairResult, SessionChange, Unplaced

__all__ = ["BlockedSlot", "Booking", "Disruption", "ExtraList", "Move", "Place",
           "RepairInputError", "RepairProblem", "RepairResult", "RepairSettings", "RoomDown",
           "SessionCancelled", "SessionChange", "SiteClosed", "StaffShort", "Unplaced",
           "check_repair", "repair_diary"]

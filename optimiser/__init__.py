"""Diary build with CP-SAT: the weekly room-session plan across the network from demand and
staff availability, with its own lower bound and a greedy baseline; its repair after a
disruption, moving the fewest booked patients (`optimiser.repair`); and the ranking of backfill
candidates (`optimiser.backfill`). Imports only `domain` and `slot_rules`.

The names below are loaded when first asked for (PEP 562): `optimiser.backfill`, which every
database session's hooks need, must not pull in OR-Tools and SciPy with it."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "build_diary": "optimiser.build",
    "DemandRow": "optimiser.problem",
    "DiaryInputError": "optimiser.problem",
    "DiaryPlan": "optimiser.problem",
    "DiaryProblem": "optimiser.problem",
    "RoomSession": "optimiser.problem",
    "Weights": "optimiser.problem",
    "RepairInputError": "optimiser.repair",
    "RepairProblem": "optimiser.repair",
    "RepairResult": "optimiser.repair",
    "repair_diary": "optimiser.repair",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'optimiser' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)

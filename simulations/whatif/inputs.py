"""Everything one replication reads, compiled once per scenario: the world, the diary of every
week (a few distinct weekly plans and which one each week runs, plus closures), the demand
multipliers per week and referral cell, and the policies. Plain arrays, so a replication can
be shipped to another process or machine as it is."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulations.whatif.choice import ChoiceModel
from simulations.whatif.patient_models import BackfillModel
from simulations.whatif.world import World

MTBF_DAYS = (120.0, 200.0, 60.0, 60.0)
"""Mean days between breakdowns of one room, by modality (XR, US, CT, MR)."""
REPAIR_MEAN_DAYS = (1.0, 1.0, 2.0, 3.0)


@dataclass(frozen=True)
class Breakdowns:
    enabled: bool = True
    mtbf_days: tuple[float, ...] = MTBF_DAYS
    repair_mean_days: tuple[float, ...] = REPAIR_MEAN_DAYS


@dataclass(frozen=True)
class Closure:
    rooms: np.ndarray
    first_day: int
    last_day: int
    """Inclusive, as days from the start."""


@dataclass(frozen=True)
class Policies:
    own_trust: bool = True
    """Each trust books only its own sites (today); False: network-wide choice."""
    backfill: bool = False
    solver_diaries: bool = False
    release_weeks: int = 6
    """How far ahead diaries are open for booking."""
    hold_release_days: int = 2
    choice: ChoiceModel = field(default_factory=ChoiceModel)
    backfill_model: BackfillModel = field(default_factory=BackfillModel)
    breakdowns: Breakdowns = field(default_factory=Breakdowns)
    patient_events: bool = True
    """Cancellations and DNAs happen; off only to check the queue against simpler models."""


@dataclass(frozen=True)
class Inputs:
    world: World
    weeks: int
    warmup_weeks: int
    room_site: np.ndarray  # [R]
    room_modality: np.ndarray  # [R]
    plans: np.ndarray  # [P, R, 7, F] slots
    plan_of_week: np.ndarray  # [weeks + release] which plan each week runs
    closures: tuple[Closure, ...]
    rate_multiplier: np.ndarray  # [weeks, C]
    hold_share: np.ndarray  # [G]
    policies: Policies
    start: StartPatients
    label: str = ""

    @property
    def days(self) -> int:
        return 7 * self.weeks

    def week_slots(self, week: int) -> np.ndarray:
        """[R, 7, F] slots of a week's diary after closures."""
        plan = self.plans[self.plan_of_week[min(week, len(self.plan_of_week) - 1)]].copy()
        first = 7 * week
        for closure in self.closures:
            lo, hi = max(closure.first_day, first), min(closure.last_day, first + 6)
            if lo <= hi:
                plan[closure.rooms, lo - first:hi - first + 1, :] = 0
        return plan

    def rooms_per_site(self) -> np.ndarray:
        """[S, M] rooms with any slots in any plan: the choice model's department size."""
        used = self.plans.sum(axis=(0, 2, 3)) > 0
        rooms = np.zeros((self.world.n_sites, 4))
        np.add.at(rooms, (self.room_site[used], self.room_modality[used]), 1)
        return rooms


@dataclass(frozen=True)
class StartPatients:
    """The start state's requests as day offsets from the first day simulated: those booked
    (site and day given) and those waiting (site and day -1)."""

    family: np.ndarray
    area: np.ndarray
    priority: np.ndarray
    adult: np.ndarray
    received: np.ndarray
    site: np.ndarray
    appt: np.ndarray
    due: np.ndarray

    @staticmethod
    def none() -> StartPatients:
        empty = np.zeros(0, dtype=np.int32)
        return StartPatients(*([empty] * 8))

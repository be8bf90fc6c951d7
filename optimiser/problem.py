"""What the diary builder is given and what it gives back, as plain frozen dataclasses.

Demand is a tidy list of (family, area, priority, expected count) rows: the shape the
forecasting package produces, so a forecast plugs in unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from domain.network import Network
from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffAvailability
from domain.vocabulary import AgeBand, ExamFamily, Modality, Priority, SessionPeriod

PERIODS = (SessionPeriod.MORNING, SessionPeriod.AFTERNOON, SessionPeriod.EVENING)
DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class DemandRow:
    """Expected referrals in the week for one exam family from one area at one priority, of
    one age band (adults are never planned at a site with an age limit)."""

    family: ExamFamily
    area_id: str
    priority: Priority
    expected_count: float
    age_band: AgeBand = AgeBand.ADULT


@dataclass(frozen=True)
class RoomSession:
    """One room running one template for one session of one day."""

    room_id: str
    site_id: str
    date: date
    period: SessionPeriod
    template_id: str


@dataclass(frozen=True)
class Weights:
    """Objective costs, most important first; each level outweighs what the next can save.

    Units are points: one unmet exam costs `unmet_per_exam × priority weight` (1…8); a patient
    travelling one km costs `travel_per_km`; so serving anyone within the travel limit always
    beats leaving them unmet.

    Off-peak sessions cost per slot of the template run, because a manager judges an evening or
    weekend list by how much of it is used: it pays overtime rates and asks staff for their
    evenings, so it is worth running only when at least half its slots take routine patients
    (2,000 points each), the rule a careful planner uses by hand. So 1,000 per slot for an
    evening and 1,000 per slot for a weekend day; a weekend evening is both and must be full.
    Urgent and two-week-wait patients (4,000 and 8,000) justify a session at a quarter and an
    eighth full. Every stage (repair, rounding, CP-SAT, the LP bound) uses these same costs.
    """

    unmet_per_exam: float = 1000.0
    imbalance_per_unit: float = 20000.0
    """Cost of the longest projected wait across sites (backlog as a share of the site's weekly
    demand), per modality: 1.0 means a site where a whole week's demand is left waiting."""
    travel_per_km: float = 10.0
    evening_per_slot: float = 1000.0
    """Per slot of a room-session run in the evening (weekday or weekend)."""
    weekend_per_slot: float = 1000.0
    """Per slot of a room-session run on a Saturday or Sunday (added to the evening's)."""
    overtime_per_staff_session: float = 400.0
    change_per_room_session: float = 50.0


@dataclass(frozen=True)
class DiaryProblem:
    """One week of the network to plan."""

    network: Network
    templates: Mapping[str, SessionTemplate]
    week_start: date
    demand: tuple[DemandRow, ...]
    staff_availability: tuple[StaffAvailability, ...] = ()
    travel_limit_km: float = 40.0
    last_week: tuple[RoomSession, ...] = ()
    """Last week's diary (its own dates); sessions keep their weekday and period."""
    overtime_share: float = 0.1
    """Extra sessions a group may work beyond its contracted ones, as a share of them."""
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True)
class StaffUse:
    """People of a group rostered for a session, on duties needing the given skills."""

    staff_group_id: str
    date: date
    period: SessionPeriod
    modality: Modality
    skills: frozenset[str]
    people: int


@dataclass(frozen=True)
class Allocation:
    """Exams of one family from one area (and age band) planned at one site this week."""

    family: ExamFamily
    area_id: str
    site_id: str
    count: int
    distance_km: float
    age_band: AgeBand = AgeBand.ADULT


@dataclass(frozen=True)
class UnmetDemand:
    family: ExamFamily
    area_id: str
    priority: Priority
    count: int
    age_band: AgeBand = AgeBand.ADULT


@dataclass(frozen=True)
class Diagnosis:
    """Demand that cannot be met whatever the plan, and why, in words a manager can act on."""

    family: ExamFamily | None
    area_id: str | None
    count: int
    reason: str


@dataclass(frozen=True)
class PlanMetrics:
    objective: float
    unmet_exams: int
    unmet_cost: float
    imbalance_cost: float
    travel_cost: float
    offpeak_cost: float
    overtime_cost: float
    change_cost: float
    mean_travel_km: float
    offpeak_sessions: int
    room_sessions: int
    utilisation: float
    """Planned exams / exam slots in the sessions opened."""


@dataclass(frozen=True)
class DiaryPlan:
    method: str
    """Which stage produced the plan: cp-sat, lp-rounding or greedy."""
    sessions: tuple[RoomSession, ...]
    staff_use: tuple[StaffUse, ...]
    allocations: tuple[Allocation, ...]
    unmet: tuple[UnmetDemand, ...]
    metrics: PlanMetrics
    bound: float | None
    bound_method: str
    seconds_to_usable: float | None
    """Seconds until the first plan that met every hard constraint and beat the greedy one."""
    seconds: float
    diagnoses: tuple[Diagnosis, ...] = ()
    log: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    """Faults of the builder itself, never of the input: a plan the independent check refused
    (and dropped for the best plan that passed), or an objective below the bound. Empty when
    all is well; anything here is a bug to report."""
    lp_bound: float | None = None
    """Our LP's bound, when the build's LP finished: `bound` unless HiGHS proved a higher one."""

    @property
    def gap(self) -> float | None:
        """(objective − bound) / objective. Negative when the plan beats the bound, which no
        valid plan can do: then `errors` says so (only rounding noise reads as zero)."""
        if self.bound is None or self.metrics.objective <= 0:
            return None
        gap = (self.metrics.objective - self.bound) / self.metrics.objective
        return 0.0 if -BOUND_TOLERANCE < gap < 0 else gap


BOUND_TOLERANCE = 1e-6
"""Relative slack between a plan's objective and the LP bound that is solver noise, not a bug."""


class DiaryInputError(ValueError):
    """Input the diary builder cannot use at all; the message names the item and the field."""

"""Where a simulation starts: the network, this week's diary, the appointments already booked,
the appointable requests waiting, and the expected weekly referrals. Plain records; the booking
service reads them from its database (`booking_api.simulation.start_state`), and
`reference_start_state` makes one from the reference network for benchmarks and tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from domain.network import Network
from domain.session_templates import SessionTemplate
from domain.vocabulary import AgeBand, ExamFamily, Priority
from forecasting.diary_demand import WaitingRequest
from optimiser.demand_model import synthetic_weekly_demand
from optimiser.instance import compile_instance
from optimiser.plan_output import diary_plan
from optimiser.problem import DemandRow, DiaryProblem, RoomSession
from optimiser.reach_greedy import reach_greedy_solution

REFERENCE_LOAD = 0.95
"""Reference demand as a share of what staff can run on weekday days: busy but not swamped."""
PLAN_HEADROOM = 1.10
"""The reference diary is planned for this multiple of the forecast, as a manager leaves room
for rebookings (DNAs, cancellations) and week-to-week variation."""


@dataclass(frozen=True)
class BookedAppointment:
    """A request booked into a future slot on the start day."""

    family: ExamFamily
    area_id: str
    priority: Priority
    age_band: AgeBand
    received: date
    site_id: str
    day: date


@dataclass(frozen=True)
class StartState:
    network: Network
    templates: Mapping[str, SessionTemplate]
    monday: date
    """The first day simulated (a Monday)."""
    diary: tuple[RoomSession, ...]
    """The open sessions of the week starting `monday`: today's practice, repeated weekly
    when the scenario keeps fixed templates."""
    booked: tuple[BookedAppointment, ...]
    waiting: tuple[WaitingRequest, ...]
    """Appointable requests not booked yet."""
    demand: tuple[DemandRow, ...]
    """Expected referrals per week (the forecast), by family, area, priority and age band."""

    def __post_init__(self) -> None:
        if self.monday.weekday() != 0:
            raise ValueError(f"monday: {self.monday.isoformat()} is not a Monday")


def reference_start_state(network: Network, templates: Mapping[str, SessionTemplate],
                          monday: date, *, load: float = REFERENCE_LOAD,
                          seed: int = 0) -> StartState:
    """The reference network with no one waiting or booked (the warm-up fills the lists),
    demand from the optimiser's stand-in forecast, and a diary planned for it with
    PLAN_HEADROOM by the optimiser's reach greedy stage: deterministic, so the same seed
    gives the same start on any machine however loaded (a time-limited solve would not)."""
    demand = synthetic_weekly_demand(network, templates, monday, seed, load)
    planned_for = tuple(replace(row, expected_count=row.expected_count * PLAN_HEADROOM)
                        for row in demand)
    instance = compile_instance(DiaryProblem(network, templates, monday, planned_for))
    plan = diary_plan(instance, reach_greedy_solution(instance), None, "none", None, 0.0)
    return StartState(network, templates, monday, plan.sessions, (), (), demand)

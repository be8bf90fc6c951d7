"""Off-peak sessions cost per slot: an evening list is run only when the patients it would take
are worth its pay (half full of routine patients), in the final plan and in the repair stage.

One X-ray room, one radiographer with ten contracted weekday-daytime sessions (24 slots each,
240 exams) and one overtime session a week, worked in the evening at 24 × 1,000 points plus
400 overtime."""

from __future__ import annotations

import numpy as np
import pytest

from domain.vocabulary import ExamFamily, Priority
from optimiser import build_diary
from optimiser.evaluation import Solution, metrics
from optimiser.instance import compile_instance
from optimiser.rounding import repaired_solution
from tests.optimiser.conftest import (
    LONG_HOURS,
    area,
    demand,
    network,
    problem,
    room,
    site,
    staff,
)


def _evening_network():
    return network([site("S1", 52.0, -2.0, LONG_HOURS)], [room("S1-XR1", "S1")],
                   [staff("G1", "S1", evenings=True)], [area("A1", 52.009, -2.0)])


def _empty_plan(instance) -> Solution:
    cells = instance.demand
    return Solution("empty", np.zeros(len(instance.option_class), dtype=int),
                    np.zeros(len(instance.flow_need), dtype=int),
                    np.zeros(len(cells.arc_cell), dtype=int), cells.counts.copy())


@pytest.mark.parametrize(("count", "priority", "evenings"), [
    (250, Priority.ROUTINE, 0),    # 10 left over: 20,000 points < 24,400
    (260, Priority.ROUTINE, 1),    # 20 left over: 40,000 points > 24,400
    (250, Priority.URGENT, 1),     # 10 urgent left over: 40,000 points > 24,400
])
def test_an_evening_list_runs_only_when_its_patients_are_worth_its_pay(
        count: int, priority: Priority, evenings: int) -> None:
    plan = build_diary(problem(_evening_network(),
                               [demand(ExamFamily.XR_PLAIN, "A1", count, priority)]), 10)
    assert plan.metrics.offpeak_sessions == evenings
    assert plan.metrics.unmet_exams == max(0, count - 240 - 24 * evenings)


@pytest.mark.parametrize(("count", "evenings"), [(250, 0), (260, 1)])
def test_shortfall_repair_weighs_an_evening_list_as_the_objective_does(
        count: int, evenings: int) -> None:
    instance = compile_instance(problem(_evening_network(),
                                        [demand(ExamFamily.XR_PLAIN, "A1", count)]))
    repaired = metrics(instance, repaired_solution(instance, _empty_plan(instance)))
    assert repaired.offpeak_sessions == evenings
    assert repaired.room_sessions == 10 + evenings


def test_an_evening_session_costs_its_slots_at_the_evening_rate() -> None:
    plan = build_diary(problem(_evening_network(),
                               [demand(ExamFamily.XR_PLAIN, "A1", 264)]), 10)
    assert plan.metrics.offpeak_cost == pytest.approx(24 * 1000.0)
    assert plan.metrics.overtime_cost == pytest.approx(400.0)

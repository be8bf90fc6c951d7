"""The whole reference network: every hard rule holds in the plans returned, whatever stage
produced them, and a plan comes back even when the solvers get no time at all."""

from __future__ import annotations

import pytest

from cdip_bench.diary import bench_problem
from optimiser import build_diary
from optimiser.greedy import greedy_solution
from optimiser.instance import compile_instance
from optimiser.plan_check import check_plan
from optimiser.plan_output import diary_plan
from optimiser.relaxation import solve_relaxation


@pytest.fixture(scope="module")
def week():
    return bench_problem(seed=3)


@pytest.fixture(scope="module")
def optimised(week):
    return build_diary(week, time_limit_s=30)


@pytest.mark.slow
def test_the_optimised_plan_keeps_every_crew_capability_and_opening_rule(week, optimised):
    assert optimised.sessions
    assert check_plan(week, optimised) == []


@pytest.mark.slow
def test_the_optimised_plan_beats_greedy_and_stays_above_the_bound(week, optimised):
    instance = compile_instance(week)
    greedy = diary_plan(instance, greedy_solution(instance), None, "", None, 0.0)
    # The bound solved without a time limit, so a loaded machine cannot leave it out.
    bound = solve_relaxation(instance, time_limit_s=600).bound
    assert check_plan(week, greedy) == []
    assert bound is not None
    assert bound <= optimised.metrics.objective < greedy.metrics.objective
    assert optimised.metrics.unmet_exams < greedy.metrics.unmet_exams


@pytest.mark.slow
def test_with_a_tenth_of_a_second_the_fallback_still_answers(week):
    plan = build_diary(week, time_limit_s=0.1)
    assert plan.method == "greedy"
    assert plan.sessions
    assert check_plan(week, plan) == []

"""Site neighbourhoods solved as MIPs (`optimiser.site_mip`): the model is the exact diary
model with the rest of the plan fixed, so a neighbourhood of every site solved to optimality is
the exact optimum, and an answer is a plan that keeps every rule."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings

from optimiser.allocation import best_allocation
from optimiser.build import closed_solution
from optimiser.evaluation import Solution, metrics
from optimiser.instance import compile_instance
from optimiser.plan_check import check_plan
from optimiser.plan_output import diary_plan
from optimiser.relaxation import solve_relaxation
from optimiser.site_mip import site_mip_search, solve_neighbourhood
from optimiser.staff_ledger import StaffLedger
from tests.optimiser.conftest import paediatric_week
from tests.optimiser.exact_diary import exact_optimum
from tests.optimiser.test_plans_against_exact import PROPERTY, tiny_problems

NEIGHBOURHOODS = settings(PROPERTY, max_examples=40)


def _every_site_solved(week):
    inst = compile_instance(week)
    model = solve_relaxation(inst).model
    start = closed_solution(inst)
    result = solve_neighbourhood(inst, model, start, np.arange(len(inst.sites)),
                                 time.perf_counter() + 20)
    return inst, result


@NEIGHBOURHOODS
@given(tiny_problems())
def test_the_neighbourhood_of_every_site_solved_to_optimality_is_the_exact_optimum(week) -> None:
    inst, result = _every_site_solved(week)
    assert result.optimal
    exact = exact_optimum(week).objective
    assert metrics(inst, result.solution).objective == pytest.approx(exact, rel=1e-6, abs=1e-6)


@NEIGHBOURHOODS
@given(tiny_problems())
def test_a_neighbourhood_s_plan_keeps_every_rule(week) -> None:
    inst, result = _every_site_solved(week)
    plan = diary_plan(inst, result.solution, None, "", None, 0.0)
    assert check_plan(week, plan) == []


def _paediatric_site():
    """The paediatric week and its plan with the radiologist's one session spread out."""
    inst = compile_instance(paediatric_week())
    ledger = StaffLedger(inst)
    assert ledger.open(0)  # one room with the week's only radiologist session
    return inst, Solution("start", ledger.x, ledger.z, *best_allocation(inst, ledger.x))


def test_a_site_neighbourhood_brings_radiologist_led_rooms_into_one_session() -> None:
    inst, spread = _paediatric_site()
    assert metrics(inst, spread).unmet_exams == 20
    model = solve_relaxation(inst).model
    result = solve_neighbourhood(inst, model, spread, np.array([0]), time.perf_counter() + 5)
    assert metrics(inst, result.solution).unmet_exams == 0
    assert metrics(inst, result.solution).room_sessions == 3


def test_the_search_keeps_each_better_plan_it_offers() -> None:
    inst, spread = _paediatric_site()
    model = solve_relaxation(inst).model
    offered: list[float] = []

    def offer(plan: Solution) -> Solution:
        offered.append(metrics(inst, plan).objective)
        return plan

    log: list[str] = []
    best = site_mip_search(inst, model, spread, offer, time.perf_counter() + 5, log)
    assert offered == [metrics(inst, best).objective]
    assert offered[0] < metrics(inst, spread).objective
    assert log == ["site MIP: pass 1 improved 1 sites, 1 of 1 settled"]

"""RINS on the network model (`optimiser.rins`): the room and staff columns where the plan and
the LP agree are fixed, the rest is left to HiGHS, started from the plan; so its answer is never
worse than the plan, keeps every rule, and is the exact optimum when the two agree nowhere."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings

from optimiser.build import closed_solution
from optimiser.evaluation import metrics
from optimiser.instance import compile_instance
from optimiser.model_points import plan_point
from optimiser.plan_check import check_plan
from optimiser.plan_output import diary_plan
from optimiser.relaxation import solve_relaxation
from optimiser.rins import rins, rins_neighbourhood
from tests.optimiser.conftest import paediatric_week
from tests.optimiser.exact_diary import exact_optimum
from tests.optimiser.test_plans_against_exact import PROPERTY, tiny_problems

NEIGHBOURHOODS = settings(PROPERTY, max_examples=15)


def _from_every_room_closed(week):
    inst = compile_instance(week)
    relaxation = solve_relaxation(inst)
    start = closed_solution(inst)
    return inst, relaxation, start, rins(inst, relaxation.model, relaxation, start,
                                         time.perf_counter() + 10)


@NEIGHBOURHOODS
@given(tiny_problems())
def test_rins_never_returns_a_plan_worse_than_its_start(week) -> None:
    inst, _, start, found = _from_every_room_closed(week)
    assert metrics(inst, found).objective <= metrics(inst, start).objective + 1e-6


@NEIGHBOURHOODS
@given(tiny_problems())
def test_a_plan_from_rins_keeps_every_rule(week) -> None:
    inst, _, _, found = _from_every_room_closed(week)
    assert check_plan(week, diary_plan(inst, found, None, "", None, 0.0)) == []


@NEIGHBOURHOODS
@given(tiny_problems())
def test_rins_is_no_better_than_the_exact_optimum(week) -> None:
    inst, _, _, found = _from_every_room_closed(week)
    assert metrics(inst, found).objective >= exact_optimum(week).objective - 1e-6


def test_the_neighbourhood_fixes_the_columns_where_the_plan_and_the_lp_agree() -> None:
    inst = compile_instance(paediatric_week())
    relaxation = solve_relaxation(inst)
    model = relaxation.model
    lay = model.layout
    start = plan_point(inst, model, closed_solution(inst))
    arrays = rins_neighbourhood(model, relaxation, start)
    lp = np.concatenate([relaxation.x, relaxation.z])
    agree = np.abs(start[lay.x:lay.o] - lp) <= 1e-6
    fixed = arrays.lower[lay.x:lay.o] == arrays.upper[lay.x:lay.o]
    assert agree.any() and not agree.all()
    assert np.array_equal(fixed, agree | (model.lower[lay.x:lay.o] == model.upper[lay.x:lay.o]))
    assert np.array_equal(arrays.lower[lay.o:], model.lower[lay.o:])
    assert np.array_equal(arrays.upper[lay.o:], model.upper[lay.o:])


def test_rins_from_a_plan_that_differs_from_the_lp_everywhere_finds_the_optimum() -> None:
    week = paediatric_week()
    inst, _, _, found = _from_every_room_closed(week)
    assert metrics(inst, found).objective == pytest.approx(exact_optimum(week).objective,
                                                           abs=1e-6)

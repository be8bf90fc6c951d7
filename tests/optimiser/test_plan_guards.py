"""What `build_diary` does when one of its own stages is wrong: a plan that breaks a rule is
never returned (the best plan that passed the independent check is), and an objective below
the bound is reported as an error, never as a gap of zero."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import optimiser.build as build
from domain.vocabulary import ExamFamily
from optimiser import build_diary
from optimiser.evaluation import Solution
from optimiser.plan_check import check_plan
from optimiser.relaxation import solve_relaxation
from tests.optimiser.conftest import demand, problem


def _unstaffed_plan(inst) -> Solution:
    """Every room open in every session it can run, staff left unrostered, all demand met:
    cheaper than anything feasible when staff are short."""
    x = np.array([inst.classes[c].size for c in inst.option_class], dtype=int)
    first = {}
    for option, key in enumerate(inst.option_class_time):
        first.setdefault(int(key), option)
    x = np.where(np.isin(np.arange(len(x)), list(first.values())), x, 0)
    w = np.zeros(len(inst.demand.arc_cell), dtype=int)
    unmet = inst.demand.counts.copy()
    for arc in range(len(w)):
        cell = inst.demand.arc_cell[arc]
        w[arc] = unmet[cell].sum()
        unmet[cell] = 0
    return Solution("cp-sat", x, np.zeros(len(inst.flow_need), dtype=int), w, unmet)


def test_a_stage_offering_a_plan_that_breaks_a_rule_is_overruled(one_xr_room, monkeypatch):
    week = problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1", 300)])

    def faulty_search(inst, start, offer, *args):
        offer(_unstaffed_plan(inst))
        return start

    monkeypatch.setattr(build, "site_search", faulty_search)
    plan = build_diary(week, time_limit_s=5)
    assert check_plan(week, plan) == []
    assert plan.method != "cp-sat"
    assert len(plan.errors) == 1
    assert "broke" in plan.errors[0] and "was dropped" in plan.errors[0]


def test_an_objective_below_the_bound_is_an_error_and_a_negative_gap(one_xr_room, monkeypatch):
    week = problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1", 300)])

    def too_high(inst, time_limit_s, model):
        relaxation = solve_relaxation(inst, time_limit_s, model)
        return replace(relaxation, bound=relaxation.bound + 5000.0)

    monkeypatch.setattr(build, "solve_relaxation", too_high)
    plan = build_diary(week, time_limit_s=5)
    assert plan.gap < 0
    assert plan.errors == (f"objective {plan.metrics.objective:,.2f} is below the bound "
                           f"{plan.bound:,.2f}: the bound or the plan's scoring is wrong",)


def test_a_valid_bound_leaves_no_error(one_xr_room) -> None:
    plan = build_diary(problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1", 300)]), 5)
    assert plan.errors == ()
    assert plan.gap == pytest.approx(0.0, abs=1e-6)

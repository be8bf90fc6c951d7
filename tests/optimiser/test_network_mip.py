"""The whole network model solved by HiGHS in a process of its own (`optimiser.network_mip`):
on small weeks it proves the exact optimum, every plan it sends keeps every rule, its bound is
one the build may report, and a run ended at the deadline leaves no process behind."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from hypothesis import given, settings

from domain.vocabulary import ExamFamily, Modality, Priority, SessionPeriod, StaffRole
from optimiser import build_diary
from optimiser.build import NETWORK_BOUND_METHOD, closed_solution
from optimiser.evaluation import metrics
from optimiser.instance import compile_instance
from optimiser.model_points import plan_point, point_plan
from optimiser.network_mip import NetworkMip
from optimiser.plan_check import check_plan
from optimiser.plan_output import diary_plan
from optimiser.problem import RoomSession
from optimiser.relaxation import network_model, solve_relaxation
from tests.optimiser.conftest import (
    WEEK,
    area,
    demand,
    network,
    paediatric_week,
    problem,
    room,
    site,
    staff,
)
from tests.optimiser.exact_diary import exact_optimum
from tests.optimiser.test_plans_against_exact import PROPERTY, TEMPLATES, tiny_problems

WHOLE_NETWORK = settings(PROPERTY, max_examples=8)


def _run_to_the_end(week, seconds: float = 20.0):
    """The run's plans (in the order sent) and the run, once HiGHS has finished. It starts
    from every room closed, and sends only plans better than that."""
    inst = compile_instance(week)
    model = network_model(inst)
    run = NetworkMip(model, plan_point(inst, model, closed_solution(inst)),
                     time.monotonic() + seconds)
    plans = []
    while run.running:
        plans += run.improved_plans(wait_s=1.0)
    plans += run.improved_plans()
    run.stop()
    return inst, model, run, plans


@WHOLE_NETWORK
@given(tiny_problems())
def test_the_network_mip_s_last_plan_is_the_exact_optimum(week) -> None:
    inst, model, run, plans = _run_to_the_end(week)
    assert run.status == "Optimal"
    best = point_plan(inst, model, plans[-1].point, "network-mip") if plans else \
        closed_solution(inst)
    exact = exact_optimum(week).objective
    assert metrics(inst, best).objective == pytest.approx(exact, rel=1e-6, abs=1e-6)


@WHOLE_NETWORK
@given(tiny_problems())
def test_the_network_mip_s_bound_is_no_better_than_the_exact_optimum(week) -> None:
    _, _, run, _ = _run_to_the_end(week)
    assert run.dual_bound <= exact_optimum(week).objective + 1e-6


@WHOLE_NETWORK
@given(tiny_problems())
def test_every_plan_the_network_mip_sends_keeps_every_rule(week) -> None:
    inst, model, _, plans = _run_to_the_end(week)
    for improved in plans:
        plan = point_plan(inst, model, improved.point, "network-mip")
        assert check_plan(week, diary_plan(inst, plan, None, "", None, 0.0)) == []


def test_each_plan_sent_is_better_than_the_one_before() -> None:
    _, _, _, plans = _run_to_the_end(paediatric_week())
    objectives = [p.objective for p in plans]
    assert objectives == sorted(objectives, reverse=True)
    assert len(set(objectives)) == len(objectives)


def test_a_run_stopped_before_its_deadline_ends_its_process() -> None:
    week = paediatric_week()
    inst = compile_instance(week)
    model = network_model(inst)
    run = NetworkMip(model, plan_point(inst, model, closed_solution(inst)),
                     time.monotonic() + 60)
    run.stop()
    assert not run.alive
    assert not run.running
    assert run.status == "stopped at the deadline"


def _weak_lp_week():
    """One ultrasound room that ran a sonographer's list last Monday morning, and one
    two-week-wait MSK exam, which only a radiologist-led list can do: the best plan changes a
    session (50 points), the LP pays a third of that in fractions of rooms (8.33)."""
    templates = {t.template_id: t for t in TEMPLATES}
    net = network([site("S0", 52.0, -2.0)], [room("S0-US0", "S0", Modality.US)],
                  [staff("SON", "S0", StaffRole.SONOGRAPHER, ("US",), 1, 2),
                   staff("RAD", "S0", StaffRole.RADIOLOGIST, ("US",), 1, 2)],
                  [area("A0", 52.0, -2.0)])
    last_monday = RoomSession("S0-US0", "S0", WEEK - timedelta(days=7), SessionPeriod.MORNING,
                              "US_SON")
    return problem(net, [demand(ExamFamily.US_MSK, "A0", 1, Priority.TWO_WEEK_WAIT)],
                   [templates["US_SON"], templates["US_LED"]], last_week=(last_monday,))


def test_the_build_reports_the_network_mip_s_proof_when_it_is_tighter_than_the_lp() -> None:
    week = _weak_lp_week()
    lp_bound = solve_relaxation(compile_instance(week)).bound
    assert lp_bound < 10
    plan = build_diary(week, time_limit_s=10, network_mip=True)
    assert plan.bound_method == NETWORK_BOUND_METHOD
    assert plan.bound == pytest.approx(50.0)
    assert plan.lp_bound == pytest.approx(lp_bound)
    assert plan.gap == 0
    assert plan.metrics.objective == pytest.approx(exact_optimum(week).objective, abs=1e-6)


def test_a_short_build_does_not_start_the_network_mip() -> None:
    plan = build_diary(paediatric_week(), time_limit_s=2)
    assert not any("network MIP" in line for line in plan.log)

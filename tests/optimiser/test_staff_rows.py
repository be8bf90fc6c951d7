"""Staff rows of the CP-SAT sub-models where a radiologist need holds crews and radiologist
shares at once: a list crewed by a radiologist that is also radiologist-led, and a
radiologist-crewed list beside a radiologist-led one with the same skills."""

from __future__ import annotations

import time

import numpy as np

from domain.session_templates import SessionTemplate
from domain.vocabulary import ExamFamily, Modality, StaffRole
from optimiser.allocation import best_allocation
from optimiser.evaluation import Solution
from optimiser.instance import compile_instance
from optimiser.modality_model import merge, solve_scope
from optimiser.plan_check import check_plan
from optimiser.plan_output import diary_plan
from optimiser.scopes import site_scope
from tests.optimiser.conftest import (
    ALL_PERIODS,
    DAYTIME,
    area,
    demand,
    network,
    problem,
    room,
    staff,
)
from tests.optimiser.conftest import site as make_site

US_RAD_BOTH = SessionTemplate(
    "US_RAD_BOTH", "Radiologist-performed ultrasound", Modality.US,
    ((ExamFamily.US_ABDO_PELVIS, 10),), 20, frozenset(), StaffRole.RADIOLOGIST, 1, True, 3,
    DAYTIME)
US_RAD_CREW = SessionTemplate(
    "US_RAD_CREW", "Radiologist MSK ultrasound", Modality.US, ((ExamFamily.US_MSK, 8),), 30,
    frozenset(), StaffRole.RADIOLOGIST, 1, False, 0, ALL_PERIODS)
US_LED = SessionTemplate(
    "US_LED", "Radiologist-led ultrasound", Modality.US, ((ExamFamily.US_ABDO_PELVIS, 12),), 20,
    frozenset(), StaffRole.SONOGRAPHER, 1, True, 2, DAYTIME)


def _site_model_plan(week):
    """The site sub-model solved from an all-closed start, as a plan of named rooms."""
    inst = compile_instance(week)
    x = np.zeros(len(inst.option_class), dtype=int)
    closed = Solution("closed", x, np.zeros(len(inst.flow_need), dtype=int),
                      *best_allocation(inst, x))
    result = solve_scope(inst, site_scope(inst, 0, closed), closed, time.perf_counter() + 10)
    assert result.x, result.status
    return diary_plan(inst, merge(closed, [result]), None, "", None, 0.0)


def _three_us_rooms(groups):
    return network([make_site("S1", 52.0, -2.0)],
                   [room(f"S1-US{i}", "S1", Modality.US) for i in (1, 2, 3)], groups,
                   [area("A1", 52.009, -2.0)])


def test_a_list_crewed_by_a_radiologist_and_radiologist_led_needs_crew_and_lead() -> None:
    # two radiologists: one room takes 1 + 1/3 of them (2 people), two rooms 2 + 2/3 (3)
    net = _three_us_rooms([staff("RAD", "S1", StaffRole.RADIOLOGIST, ("US",), 2, 20)])
    week = problem(net, [demand(ExamFamily.US_ABDO_PELVIS, "A1", 300)], [US_RAD_BOTH])
    plan = _site_model_plan(week)
    assert check_plan(week, plan) == []
    per_session: dict = {}
    for session in plan.sessions:
        per_session[(session.date, session.period)] = per_session.get(
            (session.date, session.period), 0) + 1
    assert set(per_session.values()) == {1}
    assert len(per_session) == 10


def test_radiologist_crewed_and_radiologist_led_lists_share_the_site_s_radiologists() -> None:
    # one radiologist a session: one radiologist-crewed room, or two radiologist-led rooms
    net = _three_us_rooms([staff("RAD", "S1", StaffRole.RADIOLOGIST, ("US",), 1, 10),
                           staff("SON", "S1", StaffRole.SONOGRAPHER, ("US",), 3, 30)])
    rows = [demand(ExamFamily.US_ABDO_PELVIS, "A1", 400), demand(ExamFamily.US_MSK, "A1", 200)]
    week = problem(net, rows, [US_LED, US_RAD_CREW])
    plan = _site_model_plan(week)
    assert check_plan(week, plan) == []
    assert plan.sessions

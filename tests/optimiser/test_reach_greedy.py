"""The stronger baseline: every site plans for all the demand within the travel limit, opens
only rooms that cover some, and books by a min-cost flow."""

from __future__ import annotations

from domain.session_templates import SessionTemplate
from domain.vocabulary import ExamFamily, Modality, StaffRole
from optimiser.evaluation import metrics
from optimiser.greedy import greedy_solution
from optimiser.instance import compile_instance
from optimiser.plan_check import check_plan
from optimiser.plan_output import diary_plan
from optimiser.reach_greedy import reach_greedy_solution
from tests.optimiser.conftest import ALL_PERIODS, area, demand, network, problem, room, site, staff


def _us(template_id: str, family: ExamFamily) -> SessionTemplate:
    return SessionTemplate(template_id, template_id, Modality.US, ((family, 12),), 20,
                           frozenset(), StaffRole.SONOGRAPHER, 1, False, 0, ALL_PERIODS)


US_GEN, US_MSK = _us("US_GEN", ExamFamily.US_ABDO_PELVIS), _us("US_MSK", ExamFamily.US_MSK)


def _near_and_far():
    """An area beside NEAR; FAR, 11 km off, is nobody's nearest site but within reach."""
    return network([site("NEAR", 52.0, -2.0), site("FAR", 52.1, -2.0)],
                   [room("NEAR-US1", "NEAR", Modality.US), room("FAR-US1", "FAR", Modality.US)],
                   [staff("SON1", "NEAR", StaffRole.SONOGRAPHER, ("US",)),
                    staff("SON2", "FAR", StaffRole.SONOGRAPHER, ("US",))],
                   [area("A1", 52.001, -2.0)])


def test_a_site_plans_for_demand_whose_nearest_site_is_another() -> None:
    # 200 MSK exams, 120 slots at NEAR: FAR must run MSK lists, though no area is local to it
    week = problem(_near_and_far(), [demand(ExamFamily.US_MSK, "A1", 200)], [US_GEN, US_MSK])
    inst = compile_instance(week)
    assert metrics(inst, reach_greedy_solution(inst)).unmet_exams == 0
    assert metrics(inst, greedy_solution(inst)).unmet_exams == 80


def test_only_rooms_that_cover_demand_are_opened() -> None:
    week = problem(_near_and_far(), [demand(ExamFamily.US_MSK, "A1", 30)], [US_GEN, US_MSK])
    inst = compile_instance(week)
    plan = diary_plan(inst, reach_greedy_solution(inst), None, "", None, 0.0)
    assert len(plan.sessions) == 3
    assert {s.template_id for s in plan.sessions} == {"US_MSK"}
    assert {s.site_id for s in plan.sessions} == {"NEAR"}
    assert plan.metrics.unmet_exams == 0
    assert check_plan(week, plan) == []

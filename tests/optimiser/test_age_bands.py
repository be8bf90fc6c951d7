"""Demand comes in age bands: a children's hospital (a site with an age limit) is planned for
children, and adults are never planned there."""

from __future__ import annotations

from dataclasses import replace

from domain.vocabulary import AgeBand, ExamFamily
from optimiser import build_diary
from optimiser.plan_check import check_plan
from optimiser.problem import DemandRow, Priority
from tests.optimiser.conftest import area, network, problem, room, site, staff


def _kids_beside_the_area():
    """KIDS (under 16 only) beside the area; GENERAL 11 km off."""
    return network([replace(site("KIDS", 52.0, -2.0), age_limit_years=16),
                    site("GENERAL", 52.1, -2.0)],
                   [room("KIDS-XR1", "KIDS"), room("GENERAL-XR1", "GENERAL")],
                   [staff("G1", "KIDS"), staff("G2", "GENERAL")], [area("A1", 52.001, -2.0)])


def _row(count: float, band: AgeBand) -> DemandRow:
    return DemandRow(ExamFamily.XR_PLAIN, "A1", Priority.ROUTINE, count, band)


def test_children_go_to_the_children_s_site_and_adults_never_do() -> None:
    week = problem(_kids_beside_the_area(), [_row(50, AgeBand.CHILD), _row(80, AgeBand.ADULT)])
    plan = build_diary(week, 5)
    where = {(a.age_band, a.site_id): a.count for a in plan.allocations}
    assert where == {(AgeBand.CHILD, "KIDS"): 50, (AgeBand.ADULT, "GENERAL"): 80}
    assert check_plan(week, plan) == []


def test_adults_whom_only_a_children_s_site_could_serve_are_unmet_with_a_reason() -> None:
    net = network([replace(site("KIDS", 52.0, -2.0), age_limit_years=16)],
                  [room("KIDS-XR1", "KIDS")], [staff("G1", "KIDS")], [area("A1", 52.001, -2.0)])
    plan = build_diary(problem(net, [_row(30, AgeBand.ADULT)]), 5)
    assert plan.metrics.unmet_exams == 30
    assert any("do not take adult patients" in d.reason for d in plan.diagnoses)


def test_the_plan_check_refuses_adults_booked_at_a_children_s_site() -> None:
    week = problem(_kids_beside_the_area(), [_row(50, AgeBand.CHILD)])
    plan = build_diary(week, 5)
    wrong = replace(plan, allocations=tuple(replace(a, age_band=AgeBand.ADULT)
                                            for a in plan.allocations))
    assert check_plan(week, wrong) == [
        "A1 → KIDS: adult patients booked at a site for patients under 16"]

"""Property tests: on random tiny networks with every kind of template (one- and two-person
crews, radiologist-led lists, radiologist-crewed lists, lists both radiologist-crewed and
radiologist-led, paediatric skills, evening and weekend sessions, leave, last week's diary,
children's sites and demand of both age bands), the
plan returned keeps every rule, its objective is no better than the exact optimum, and our bound
is no worse than it; the reach-greedy baseline keeps every rule too."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffAvailability
from domain.vocabulary import (
    AgeBand,
    Capability,
    ExamFamily,
    Modality,
    Priority,
    SessionPeriod,
    StaffRole,
)
from optimiser import build_diary
from optimiser.instance import compile_instance
from optimiser.plan_check import check_plan
from optimiser.plan_output import diary_plan
from optimiser.problem import DemandRow, DiaryProblem, RoomSession
from optimiser.reach_greedy import reach_greedy_solution
from tests.optimiser.conftest import (
    ALL_PERIODS,
    DAYTIME,
    LONG_HOURS,
    WEEK,
    WEEKDAYS_ONLY,
    area,
    network,
    room,
    site,
    staff,
)
from tests.optimiser.exact_diary import exact_optimum, plan_objective

US, CT = Modality.US, Modality.CT
RADIOLOGIST, SONOGRAPHER = StaffRole.RADIOLOGIST, StaffRole.SONOGRAPHER
PAEDIATRIC, INJECTOR = Capability.PAEDIATRIC, Capability.CONTRAST_INJECTOR


def _template(template_id, modality, capacity, minutes, caps, role, crew, led, rooms, periods):
    return SessionTemplate(template_id, template_id, modality, capacity, minutes,
                           frozenset(caps), role, crew, led, rooms, periods)


TEMPLATES = (
    _template("US_SON", US, ((ExamFamily.US_ABDO_PELVIS, 12),), 20, (), SONOGRAPHER, 1, False, 0,
              ALL_PERIODS),
    _template("US_LED", US, ((ExamFamily.US_ABDO_PELVIS, 6), (ExamFamily.US_MSK, 6)), 20, (),
              SONOGRAPHER, 1, True, 2, DAYTIME),
    _template("US_RAD_CREW", US, ((ExamFamily.US_MSK, 8),), 30, (), RADIOLOGIST, 1, False, 0,
              ALL_PERIODS),
    _template("US_RAD_BOTH", US, ((ExamFamily.US_ABDO_PELVIS, 10),), 20, (), RADIOLOGIST, 1,
              True, 3, DAYTIME),
    _template("US_PAED", US, ((ExamFamily.US_PAEDIATRIC, 6),), 30, (PAEDIATRIC,), SONOGRAPHER, 1,
              True, 1, DAYTIME),
    _template("CT_PAIR", CT, ((ExamFamily.CT_PLAIN, 16),), 15, (), StaffRole.RADIOGRAPHER, 2,
              False, 0, ALL_PERIODS),
    _template("CT_LED", CT, ((ExamFamily.CT_CONTRAST, 12),), 20, (INJECTOR,),
              StaffRole.RADIOGRAPHER, 2, True, 3, ALL_PERIODS),
)


@st.composite
def tiny_problems(draw) -> DiaryProblem:
    templates = draw(st.lists(st.sampled_from(TEMPLATES), min_size=1, max_size=4,
                              unique_by=lambda t: t.template_id))
    sites, rooms, groups = [], [], []
    for s in range(draw(st.integers(1, 2))):
        site_id = f"S{s}"
        sites.append(replace(site(site_id, 52.0 + 0.15 * s, -2.0,
                                  draw(st.sampled_from([WEEKDAYS_ONLY, LONG_HOURS]))),
                             age_limit_years=draw(st.sampled_from([None, None, 16]))))
        for r in range(draw(st.integers(1, 3))):
            caps = draw(st.sets(st.just(PAEDIATRIC), max_size=1))
            rooms.append(room(f"{site_id}-US{r}", site_id, US, frozenset(caps)))
        if draw(st.booleans()):
            caps = draw(st.sets(st.just(INJECTOR), max_size=1))
            rooms.append(room(f"{site_id}-CT0", site_id, CT, frozenset(caps)))
        groups += _staff_of(draw, site_id)
    areas = [area(f"A{a}", 52.0 + draw(st.floats(-0.1, 0.6)), -2.0 + draw(st.floats(-0.3, 0.3)))
             for a in range(draw(st.integers(1, 2)))]
    offered = sorted({f for t in templates for f in t.families})
    families = draw(st.sets(st.sampled_from([*offered, ExamFamily.XR_PLAIN]), min_size=1,
                            max_size=4))
    rows = [DemandRow(family, a.area_id, priority, float(draw(st.integers(0, 80))), band)
            for family in sorted(families) for a in areas
            for priority in sorted(draw(st.sets(st.sampled_from(list(Priority)), min_size=1,
                                                max_size=2)))
            for band in sorted(draw(st.sets(st.sampled_from(list(AgeBand)), min_size=1)))]
    return DiaryProblem(network(sites, rooms, groups, areas),
                        {t.template_id: t for t in templates}, WEEK, tuple(rows),
                        staff_availability=_leave(draw, groups),
                        last_week=_last(draw, rooms, templates),
                        travel_limit_km=draw(st.sampled_from([15.0, 40.0])))


def _staff_of(draw, site_id: str) -> list:
    """Sonographers and radiologists (US and CT) at every site, radiographers at most; skills,
    headcount, contracted sessions and evening and weekend working drawn."""
    result = []
    for role, skills in ((SONOGRAPHER, ("US",)), (RADIOLOGIST, ("US", "CT")),
                         (StaffRole.RADIOGRAPHER, ("CT",))):
        if role is StaffRole.RADIOGRAPHER and not draw(st.integers(0, 3)):
            continue
        extra = draw(st.sets(st.just("PAEDIATRIC"), max_size=1))
        result.append(staff(f"{site_id}-{role.value}", site_id, role, (*skills, *extra),
                            headcount=draw(st.integers(1, 3)), sessions=draw(st.integers(2, 12)),
                            evenings=draw(st.booleans()), weekends=draw(st.booleans())))
    return result


def _leave(draw, groups) -> tuple[StaffAvailability, ...]:
    if not groups or not draw(st.booleans()):
        return ()
    group = draw(st.sampled_from(groups))
    day = WEEK + timedelta(days=draw(st.integers(0, 6)))
    return (StaffAvailability(group.site_id, group.staff_group_id, day, None,
                              group.headcount, draw(st.integers(0, group.headcount))),)


def _last(draw, rooms, templates) -> tuple[RoomSession, ...]:
    if not draw(st.booleans()):
        return ()
    sessions = {}
    for _ in range(draw(st.integers(1, 6))):
        r = draw(st.sampled_from(rooms))
        template = draw(st.sampled_from(templates))
        day = WEEK - timedelta(days=7) + timedelta(days=draw(st.integers(0, 4)))
        period = draw(st.sampled_from([SessionPeriod.MORNING, SessionPeriod.AFTERNOON]))
        sessions[(r.room_id, day, period)] = RoomSession(r.room_id, r.site_id, day, period,
                                                         template.template_id)
    return tuple(sessions.values())


PROPERTY = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(tiny_problems())
def test_the_plan_keeps_every_rule_and_the_bound_is_below_the_exact_optimum(week) -> None:
    plan = build_diary(week, time_limit_s=5)
    exact = exact_optimum(week)
    tolerance = 1e-6 * max(1.0, exact.objective)
    assert check_plan(week, plan) == []
    assert plan.metrics.objective >= exact.objective - tolerance
    assert plan.bound is None or plan.bound <= exact.objective + tolerance
    assert plan.errors == ()


@PROPERTY
@given(tiny_problems())
def test_the_objective_reported_is_the_plan_s_own(week) -> None:
    plan = build_diary(week, time_limit_s=5)
    assert plan_objective(week, plan) == pytest.approx(plan.metrics.objective, rel=1e-9,
                                                       abs=1e-6)


@PROPERTY
@given(tiny_problems())
def test_the_reach_greedy_baseline_keeps_every_rule(week) -> None:
    inst = compile_instance(week)
    plan = diary_plan(inst, reach_greedy_solution(inst), None, "", None, 0.0)
    assert check_plan(week, plan) == []
    assert plan.metrics.objective >= exact_optimum(week).objective * (1 - 1e-6)

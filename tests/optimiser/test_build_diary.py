"""The diary builder on instances small enough to know the best plan by hand."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.geography import haversine_km
from domain.vocabulary import ExamFamily, Modality, Priority, SessionPeriod, StaffRole
from optimiser import build_diary
from optimiser.plan_check import check_plan
from tests.optimiser.conftest import (
    CT_PLAIN,
    LONG_HOURS,
    XR_GENERAL,
    area,
    demand,
    network,
    problem,
    room,
    site,
    staff,
)

KM_S1_A1 = haversine_km(52.0, -2.0, 52.009, -2.0)


def test_demand_within_capacity_is_all_met_at_the_travel_cost_only(one_xr_room) -> None:
    plan = build_diary(problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1", 100)]), 10)
    assert plan.metrics.unmet_exams == 0
    assert plan.metrics.objective == pytest.approx(100 * KM_S1_A1 * 10)
    assert plan.bound == pytest.approx(plan.metrics.objective, rel=1e-6)
    assert check_plan(plan_problem := problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1",
                                                                   100)]), plan) == []
    assert plan_problem.travel_limit_km > KM_S1_A1


def test_no_sessions_are_opened_off_peak_when_daytime_suffices() -> None:
    net = network([site("S1", 52.0, -2.0, LONG_HOURS)], [room("S1-XR1", "S1")],
                  [staff("G1", "S1", evenings=True, weekends=True)], [area("A1", 52.009, -2.0)])
    plan = build_diary(problem(net, [demand(ExamFamily.XR_PLAIN, "A1", 200)]), 10)
    assert plan.metrics.offpeak_sessions == 0
    assert plan.metrics.unmet_exams == 0


def test_when_capacity_is_short_the_most_urgent_are_served_first(one_xr_room) -> None:
    # 10 weekday-daytime sessions × 24 = 240 slots for 300 requests: 60 must wait
    rows = [demand(ExamFamily.XR_PLAIN, "A1", 40, Priority.TWO_WEEK_WAIT),
            demand(ExamFamily.XR_PLAIN, "A1", 260, Priority.ROUTINE)]
    plan = build_diary(problem(one_xr_room, rows), 10)
    assert plan.metrics.unmet_exams == 60
    assert {u.priority for u in plan.unmet} == {Priority.ROUTINE}
    assert len(plan.sessions) == 10


def test_patients_go_to_the_nearer_site_when_it_has_room() -> None:
    net = network([site("NEAR", 52.0, -2.0), site("FAR", 52.2, -2.0)],
                  [room("NEAR-XR1", "NEAR"), room("FAR-XR1", "FAR")],
                  [staff("G1", "NEAR"), staff("G2", "FAR")], [area("A1", 52.009, -2.0)])
    plan = build_diary(problem(net, [demand(ExamFamily.XR_PLAIN, "A1", 150)]), 10)
    assert {a.site_id for a in plan.allocations} == {"NEAR"}


def test_a_lone_radiographer_cannot_open_a_two_person_ct_room() -> None:
    net = network([site("S1", 52.0, -2.0)], [room("S1-CT1", "S1", Modality.CT)],
                  [staff("G1", "S1", skills=("CT",), headcount=1)], [area("A1", 52.009, -2.0)])
    plan = build_diary(problem(net, [demand(ExamFamily.CT_PLAIN, "A1", 50)], [CT_PLAIN]), 10)
    assert plan.sessions == ()
    assert plan.metrics.unmet_exams == 50


def test_two_radiographers_run_one_ct_room_per_session() -> None:
    net = network([site("S1", 52.0, -2.0)],
                  [room("S1-CT1", "S1", Modality.CT), room("S1-CT2", "S1", Modality.CT)],
                  [staff("G1", "S1", skills=("CT",), headcount=3, sessions=30)],
                  [area("A1", 52.009, -2.0)])
    rows = [demand(ExamFamily.CT_PLAIN, "A1", 400)]
    plan = build_diary(problem(net, rows, [CT_PLAIN]), 10)
    per_session: dict = {}
    for session in plan.sessions:
        key = (session.date, session.period)
        per_session[key] = per_session.get(key, 0) + 1
    assert max(per_session.values()) == 1
    assert plan.metrics.unmet_exams == 400 - 16 * 10
    assert check_plan(problem(net, rows, [CT_PLAIN]), plan) == []


def test_a_change_from_last_week_is_avoided_when_it_gains_nothing(one_xr_room) -> None:
    first = build_diary(problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1", 100)]), 10)
    last_week = tuple(replace(s, date=s.date - timedelta(days=7)) for s in first.sessions)
    again = build_diary(problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1", 100)],
                                last_week=last_week), 10)
    assert again.metrics.change_cost == 0
    assert {(s.date, s.period) for s in again.sessions} == {(s.date, s.period)
                                                             for s in first.sessions}


def test_staff_on_leave_leave_their_sessions_closed(one_xr_room) -> None:
    from datetime import date

    from domain.staff_availability import StaffAvailability

    leave = tuple(StaffAvailability("S1", "G1", date(2027, 3, d), None, 1, 1, "annual leave")
                  for d in (1, 2))
    plan = build_diary(problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1", 300)],
                               staff_availability=leave), 10)
    assert {s.date.day for s in plan.sessions} == {3, 4, 5}
    assert all(s.period is not SessionPeriod.EVENING for s in plan.sessions)


def test_gap_is_reported_beside_the_bound_method(one_xr_room) -> None:
    plan = build_diary(problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1", 300)]), 10)
    assert plan.bound is not None and plan.bound <= plan.metrics.objective + 1e-6
    assert 0 <= plan.gap <= 1e-6
    assert "LP relaxation" in plan.bound_method


def test_crew_role_of_the_template_is_respected() -> None:
    net = network([site("S1", 52.0, -2.0)], [room("S1-XR1", "S1")],
                  [staff("G1", "S1", role=StaffRole.SONOGRAPHER, skills=("XR",))],
                  [area("A1", 52.009, -2.0)])
    plan = build_diary(problem(net, [demand(ExamFamily.XR_PLAIN, "A1", 10)], [XR_GENERAL]), 5)
    assert plan.sessions == ()


def test_a_site_neighbourhood_brings_radiologist_led_rooms_into_one_session() -> None:
    from optimiser.allocation import best_allocation
    from optimiser.evaluation import Solution, metrics
    from optimiser.instance import compile_instance
    from optimiser.modality_model import merge, solve_scope
    from optimiser.scopes import site_scope
    from optimiser.staff_ledger import StaffLedger
    from tests.optimiser.conftest import paediatric_week

    inst = compile_instance(paediatric_week())
    ledger = StaffLedger(inst)
    assert ledger.open(0)  # one room with the week's only radiologist session
    spread = Solution("start", ledger.x, ledger.z, *best_allocation(inst, ledger.x))
    assert metrics(inst, spread).unmet_exams == 20
    result = solve_scope(inst, site_scope(inst, 0, spread), spread, time.perf_counter() + 5)
    together = merge(spread, [result])
    assert metrics(inst, together).unmet_exams == 0
    assert metrics(inst, together).room_sessions == 3

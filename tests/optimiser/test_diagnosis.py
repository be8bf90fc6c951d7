"""Contradictory input gets a diagnosis naming the demand and the reason, never a traceback."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from domain.staff_availability import StaffAvailability
from domain.vocabulary import Capability, ExamFamily
from optimiser import DiaryInputError, build_diary
from tests.optimiser.conftest import XR_FLUORO, XR_GENERAL, demand, problem


def test_a_template_needing_a_capability_no_room_has_is_named(one_xr_room) -> None:
    plan = build_diary(problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1", 10)],
                               [XR_GENERAL, XR_FLUORO]), 5)
    reasons = [d.reason for d in plan.diagnoses]
    assert any("XR_FLUORO" in r and Capability.FLUOROSCOPY.value in r for r in reasons)


def test_demand_no_room_can_do_is_diagnosed_with_its_count(one_xr_room) -> None:
    rows = [demand(ExamFamily.XR_PLAIN, "A1", 10), demand(ExamFamily.XR_FLUORO, "A1", 7)]
    plan = build_diary(problem(one_xr_room, rows, [XR_GENERAL, XR_FLUORO]), 5)
    fluoro = [d for d in plan.diagnoses if d.family is ExamFamily.XR_FLUORO]
    assert fluoro and fluoro[0].count == 7
    assert "no room has the capabilities" in fluoro[0].reason
    assert plan.metrics.unmet_exams == 7


def test_demand_with_no_template_at_all_is_diagnosed(one_xr_room) -> None:
    plan = build_diary(problem(one_xr_room, [demand(ExamFamily.MR_NEURO, "A1", 4)]), 5)
    assert [d.reason for d in plan.diagnoses] == ["no session template offers MR_NEURO"]


def test_demand_beyond_the_travel_limit_is_diagnosed(one_xr_room) -> None:
    plan = build_diary(problem(one_xr_room, [demand(ExamFamily.XR_PLAIN, "A1", 5)],
                               travel_limit_km=0.5), 5)
    assert "beyond the 0 km travel limit" in plan.diagnoses[0].reason or \
        "travel limit" in plan.diagnoses[0].reason
    assert plan.diagnoses[0].area_id == "A1"


def _with_group(net, **changes):
    return replace(net, staff_groups=(replace(net.staff_groups[0], **changes),))


BAD_INPUTS = {
    "headcount": lambda net: problem(_with_group(net, headcount=-1),
                                     [demand(ExamFamily.XR_PLAIN, "A1", 5)]),
    "sessions_per_week": lambda net: problem(_with_group(net, sessions_per_week=-3),
                                             [demand(ExamFamily.XR_PLAIN, "A1", 5)]),
    "on_leave": lambda net: problem(net, [demand(ExamFamily.XR_PLAIN, "A1", 5)],
                                    staff_availability=(StaffAvailability(
                                        "S1", "G1", date(2027, 3, 1), None, 1, -2),)),
    "rostered": lambda net: problem(net, [demand(ExamFamily.XR_PLAIN, "A1", 5)],
                                    staff_availability=(StaffAvailability(
                                        "S1", "G1", date(2027, 3, 1), None, -1, 0),)),
    "expected_count": lambda net: problem(net, [demand(ExamFamily.XR_PLAIN, "A1", -5)]),
    "area_id": lambda net: problem(net, [demand(ExamFamily.XR_PLAIN, "NOWHERE", 5)]),
    "travel_limit_km": lambda net: problem(net, [demand(ExamFamily.XR_PLAIN, "A1", 5)],
                                           travel_limit_km=-1.0),
    "rooms_per_radiologist": lambda net: problem(
        net, [demand(ExamFamily.XR_PLAIN, "A1", 5)],
        [replace(XR_GENERAL, radiologist_required=True, rooms_per_radiologist=0)]),
}


@pytest.mark.parametrize("field", sorted(BAD_INPUTS))
def test_bad_input_is_refused_naming_the_field(one_xr_room, field) -> None:
    with pytest.raises(DiaryInputError, match=field):
        build_diary(BAD_INPUTS[field](one_xr_room), 5)

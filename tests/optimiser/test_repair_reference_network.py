"""Diary repair on a week of the reference network planned by the diary builder."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from cdip_bench.repair_world import book_sessions, planned_weeks
from optimiser.repair import RepairProblem, RoomDown, check_repair, repair_diary
from slot_rules.slot_request import LONDON

TUESDAY = date(2026, 12, 8)


@pytest.mark.slow
def test_a_ct_room_day_at_a_stand_alone_site_is_repaired_within_the_site():
    plan, sessions = planned_weeks(seed=0, weeks=1)
    worcester = [s for s in sessions if s.site_id == "WAHT-WRH"]
    bookings = book_sessions(plan.network, plan.templates, worcester, seed=0, fill=0.95)
    problem = RepairProblem(plan.network, plan.templates, tuple(sessions), tuple(bookings),
                            (RoomDown("WAHT-WRH-CT1", TUESDAY, TUESDAY, "tube failure"),),
                            datetime(2026, 12, 7, 17, tzinfo=LONDON), plan.staff_availability)
    result = repair_diary(problem)
    assert result.forced_moves > 10
    assert result.excess_moves == 0
    assert {m.target.site_id for m in result.moves} == {"WAHT-WRH"}
    assert check_repair(problem, result) == []

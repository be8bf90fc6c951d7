"""Replaying the requests that came against the planned diaries: who gets seen, who is left."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from domain.vocabulary import AgeBand, ExamFamily, Priority, SessionPeriod
from forecasting.diary_demand import WaitingRequest
from optimiser.problem import RoomSession
from simulations.plan_replay import replay, weekly_capacity
from tests.optimiser.conftest import XR_GENERAL, area, network, room, site, staff

MONDAY = date(2027, 3, 1)
XR = ExamFamily.XR_PLAIN.value


def _net(kids: bool = False):
    first = site("S1", 52.0, -2.0)
    return network([replace(first, age_limit_years=16) if kids else first,
                    site("S2", 52.1, -2.0)],
                   [room("S1-XR1", "S1"), room("S2-XR1", "S2")],
                   [staff("G1", "S1"), staff("G2", "S2")],
                   [area("A1", 52.001, -2.0), area("FAR", 53.5, -2.0)])


def _requests(count: int, priority: Priority = Priority.ROUTINE, received: date = MONDAY,
              band: AgeBand = AgeBand.ADULT, area_id: str = "A1", due: date | None = None):
    return [WaitingRequest(f"{priority}-{n}", ExamFamily.XR_PLAIN, area_id, priority, received,
                           band, due) for n in range(count)]


def test_a_diary_s_capacity_is_its_sessions_slots_per_site_and_family() -> None:
    sessions = [RoomSession("S1-XR1", "S1", MONDAY, SessionPeriod.MORNING, "XR_GEN"),
                RoomSession("S1-XR1", "S1", MONDAY, SessionPeriod.AFTERNOON, "XR_GEN")]
    assert weekly_capacity(sessions, {"XR_GEN": XR_GENERAL}) == {("S1", XR): 48}


def test_everyone_is_seen_when_capacity_suffices_and_at_the_nearest_site() -> None:
    result = replay(_net(), [(MONDAY, {("S1", XR): 30, ("S2", XR): 30})], _requests(25), 40)
    assert (result.unmet, result.served) == (0, 25)
    assert result.mean_travel_km < 1


def test_short_capacity_goes_to_the_most_urgent_first() -> None:
    requests = _requests(10, Priority.ROUTINE) + _requests(5, Priority.TWO_WEEK_WAIT)
    result = replay(_net(), [(MONDAY, {("S1", XR): 8})], requests, 40)
    assert result.unmet == 7
    assert result.unmet_by_priority == {"two_week_wait": 0, "urgent": 0, "routine": 7,
                                        "planned": 0}


def test_adults_are_not_booked_at_a_children_s_site_even_with_slots_free() -> None:
    requests = _requests(4, band=AgeBand.ADULT) + _requests(3, band=AgeBand.CHILD)
    result = replay(_net(kids=True), [(MONDAY, {("S1", XR): 10})], requests, 40)
    assert (result.served, result.unmet) == (3, 4)


def test_nobody_is_sent_beyond_the_travel_limit() -> None:
    result = replay(_net(), [(MONDAY, {("S1", XR): 10})], _requests(3, area_id="FAR"), 40)
    assert result.unmet == 3


def test_requests_left_waiting_over_six_weeks_at_the_end_are_breaches() -> None:
    old = _requests(2, received=MONDAY - timedelta(weeks=6))
    recent = _requests(3)
    urgent = _requests(1, Priority.TWO_WEEK_WAIT, received=MONDAY - timedelta(days=10))
    result = replay(_net(), [(MONDAY, {})], old + recent + urgent, 40)
    assert (result.unmet, result.breaches, result.breaches_two_week_wait) == (6, 2, 1)


def test_a_planned_test_is_booked_only_once_due_and_counts_only_when_due() -> None:
    later = _requests(2, Priority.PLANNED, due=MONDAY + timedelta(weeks=8))
    now = _requests(1, Priority.PLANNED, due=MONDAY + timedelta(days=3))
    result = replay(_net(), [(MONDAY, {("S1", XR): 10})], later + now, 40)
    assert (result.served, result.unmet) == (1, 0)


def test_requests_received_in_a_later_week_wait_for_that_week() -> None:
    later = _requests(5, received=MONDAY + timedelta(days=9))
    weeks = [(MONDAY, {("S1", XR): 10}), (MONDAY + timedelta(weeks=1), {("S1", XR): 2})]
    result = replay(_net(), weeks, later, 40)
    assert (result.served, result.unmet) == (2, 3)

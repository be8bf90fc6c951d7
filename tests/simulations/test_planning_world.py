"""Cutting a history at a Monday: what was known, who was waiting, what came after."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from domain.history import History
from domain.vocabulary import AgeBand, Priority
from simulations.planning_world import PlanningWorldError, cut_history

START = date(2025, 1, 6)  # a Monday
CUTOFF = START + timedelta(weeks=8)


def _history(appointments: list[tuple[str, date, str]]) -> History:
    """One request a day for ten weeks, R0 first; patient P1 a child, P2 an adult."""
    days = [START + timedelta(days=d) for d in range(70)]
    requests = pd.DataFrame({
        "request_id": [f"R{d}" for d in range(70)],
        "patient_id": ["P1" if d % 2 else "P2" for d in range(70)],
        "received_date": pd.to_datetime(days), "exam_family": "CT_PLAIN",
        "priority": "routine", "area_id": "B1", "due_date": pd.NaT})
    patients = pd.DataFrame({"patient_id": ["P1", "P2"], "birth_year": [2015, 1960]})
    rows = pd.DataFrame(appointments, columns=["request_id", "start", "outcome"])
    return History(patients, requests, rows.assign(start=pd.to_datetime(rows["start"])), None)


def test_the_last_weeks_are_planned_and_what_came_in_them_is_kept_apart() -> None:
    world = cut_history(_history([]), weeks=2)
    assert world.cutoff == CUTOFF
    assert world.weeks == (CUTOFF, CUTOFF + timedelta(weeks=1))
    assert len(world.known) == 56 and len(world.arrivals) == 14
    assert {r.received for r in world.arrivals} == {CUTOFF + timedelta(days=d)
                                                    for d in range(14)}


def test_the_waiting_list_holds_requests_not_yet_seen_on_the_cut_off_day() -> None:
    seen = (START + timedelta(days=3), "attended")
    later = (CUTOFF + timedelta(days=2), "attended")
    missed = (START + timedelta(days=5), "dna")
    world = cut_history(_history([("R0", *seen), ("R1", *later), ("R2", *missed),
                                  ("R3", *missed), ("R3", *later)]), weeks=2)
    waiting = {r.request_id for r in world.waiting}
    assert "R0" not in waiting  # seen before the cut-off
    assert "R2" not in waiting  # a DNA never rebooked: discharged
    assert {"R1", "R3", "R4", "R55"} <= waiting  # booked later, rebooked, not booked yet
    assert len(waiting) == 54


def test_waiting_requests_carry_their_age_band_and_priority() -> None:
    world = cut_history(_history([]), weeks=2)
    first, second = world.waiting[0], world.waiting[1]
    assert (first.age_band, second.age_band) == (AgeBand.ADULT, AgeBand.CHILD)
    assert first.priority is Priority.ROUTINE


def test_a_history_too_short_for_the_weeks_asked_is_refused() -> None:
    with pytest.raises(PlanningWorldError, match="holds 10 whole weeks; planning 10"):
        cut_history(_history([]), weeks=10)

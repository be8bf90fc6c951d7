"""The DM01 waiting list at a census date, against counting by hand: who is on it, who is not
and why, the weeks each has waited, and the clock resets after a patient cancellation or DNA."""

from __future__ import annotations

from datetime import date

import pytest

from reporting.record import prepare
from reporting.waiting_list import BAND_LABELS, waiting_bands, waiting_list
from tests.reporting.world import World

CENSUS = date(2025, 3, 31)


def _world() -> tuple[World, dict[str, int]]:
    """Requests whose census outcome is worked out by hand in each comment (census: end of
    Monday 31 March 2025)."""
    w = World()
    ids = {
        # 42 days before the census: 6 completed weeks
        "six_weeks": w.request("MKNEE", "2025-02-17 09:00",
                               states=[("2025-02-18 09:00", "appointable")]),
        # 41 days: 5 weeks
        "five_weeks": w.request("CHEAD", "2025-02-18 09:00"),
        # 101 days: 14 weeks, in the 13+ band
        "thirteen_plus": w.request("UABDO", "2024-12-20 09:00",
                                   states=[("2025-01-02 09:00", "appointed")]),
        "plain_xray": w.request("XCHES", "2025-03-01 09:00"),
        "obstetric": w.request("UOBDA", "2025-03-01 09:00"),
        "planned": w.request("MKNEE", "2025-01-01 09:00", priority="planned"),
        "seen": w.request("MKNEE", "2025-03-01 09:00", states=[("2025-03-20 10:00", "attended")]),
        # appointed at the census, seen after it: 7 days, 1 week
        "seen_later": w.request("MKNEE", "2025-03-24 09:00",
                                states=[("2025-03-25 09:00", "appointed"),
                                        ("2025-04-02 09:00", "attended")]),
        # 00:30 BST on 1 April is after the census, although it is still 31 March in UTC
        "after_census": w.request("MKNEE", "2025-04-01 00:30"),
        # 23:30 BST on the census day: 0 weeks
        "census_day": w.request("CHEAD", "2025-03-31 23:30"),
        "rejected": w.request("MKNEE", "2025-03-01 09:00", states=[("2025-03-02 09:00",
                                                                      "rejected")]),
        "accident_and_emergency": w.request("CHEAD", "2025-03-01 09:00", source="05"),
    }
    # Received 6 Jan, DNA on 10 Mar: 21 days (3 weeks) since the DNA, 84 days (12) in all.
    ids["dna"] = w.request("CHEAD", "2025-01-06 09:00", states=[
        ("2025-01-07 09:00", "appointed"), ("2025-03-10 10:00", "dna"),
        ("2025-03-11 09:00", "appointable")])
    w.appointment(ids["dna"], "R-CT", "2025-03-10 10:00", 15, "dna", booked="2025-01-07 09:00")
    # Received 13 Jan, the hospital cancels on 3 Mar: no reset, 77 days (11 weeks).
    ids["hospital_cancelled"] = w.request("UABDO", "2025-01-13 09:00", trust="T2", states=[
        ("2025-01-14 09:00", "appointed"), ("2025-03-03 09:00", "appointable")])
    w.appointment(ids["hospital_cancelled"], "R-US", "2025-03-05 10:00", 20, "cancelled",
                  booked="2025-01-14 09:00", cancelled="2025-03-03 09:00",
                  cancelled_by="hospital")
    # Received 13 Jan, the patient cancels on 17 Mar: reset, 14 days (2 weeks).
    ids["patient_cancelled"] = w.request("UABDO", "2025-01-13 09:00", states=[
        ("2025-01-14 09:00", "appointed"), ("2025-03-17 09:00", "appointable")])
    w.appointment(ids["patient_cancelled"], "R-US", "2025-03-20 10:00", 20, "cancelled",
                  booked="2025-01-14 09:00", cancelled="2025-03-17 09:00",
                  cancelled_by="patient")
    return w, ids


def _weeks(reset_clock: bool = True) -> dict[int, int]:
    world, _ = _world()
    listed = waiting_list(prepare(world.inputs()), CENSUS, reset_clock=reset_clock)
    return dict(zip(listed.request + 1, listed.weeks_waited, strict=True))  # positions → ids


def test_waiting_list_holds_exactly_the_requests_counted_by_hand() -> None:
    _, ids = _world()
    expected = {"six_weeks", "five_weeks", "thirteen_plus", "seen_later", "census_day", "dna",
                "hospital_cancelled", "patient_cancelled"}
    assert set(_weeks()) == {ids[name] for name in expected}


def test_weeks_waited_are_completed_weeks_to_the_census_date() -> None:
    _, ids = _world()
    weeks = _weeks()
    assert {name: weeks[ids[name]] for name in ("six_weeks", "five_weeks", "thirteen_plus",
                                                "seen_later", "census_day")} == {
        "six_weeks": 6, "five_weeks": 5, "thirteen_plus": 14, "seen_later": 1, "census_day": 0}


@pytest.mark.parametrize(("name", "with_reset", "without_reset"), [
    ("dna", 3, 12), ("patient_cancelled", 2, 11), ("hospital_cancelled", 11, 11)])
def test_patient_cancellations_and_dnas_restart_the_clock_hospital_cancellations_do_not(
        name: str, with_reset: int, without_reset: int) -> None:
    _, ids = _world()
    assert _weeks(reset_clock=True)[ids[name]] == with_reset
    assert _weeks(reset_clock=False)[ids[name]] == without_reset


def test_bands_count_six_and_thirteen_plus_weeks_and_the_share() -> None:
    world, _ = _world()
    bands = waiting_bands(waiting_list(prepare(world.inputs()), CENSUS), by=[])
    row = bands.iloc[0]
    assert row["Total Waiting List"] == 8
    assert (row["Waiting 6+ Weeks"], row["Waiting 13+ Weeks"]) == (3, 1)  # 6, 11 and 14 weeks
    assert row["Share Waiting 6+ Weeks"] == pytest.approx(3 / 8)
    assert [row[label] for label in BAND_LABELS] == [1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 0, 1]


def test_bands_by_trust_and_test() -> None:
    world, _ = _world()
    bands = waiting_bands(waiting_list(prepare(world.inputs()), CENSUS), by=["trust", "test"])
    totals = bands.set_index(["trust", "test"])["Total Waiting List"].to_dict()
    assert totals == {
        ("T1", "Computed Tomography"): 3, ("T1", "Magnetic Resonance Imaging"): 2,
        ("T1", "Non-obstetric Ultrasound"): 2, ("T2", "Non-obstetric Ultrasound"): 1}

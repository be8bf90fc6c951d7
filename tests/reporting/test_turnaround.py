"""Turnaround between request states, against hand-computed intervals: a request that went
backwards, medians and 90th percentiles, grouping, and elapsed time across the clock changes."""

from __future__ import annotations

import pytest

from domain.lifecycle import RequestState
from reporting.london import Month
from reporting.record import prepare
from reporting.turnaround import intervals, turnaround
from tests.reporting.world import World

MARCH = Month.parse("2025-03")
WINDOW = (MARCH.start_ns, MARCH.end_ns)
S = RequestState
HOUR = 1 / 24


def _rebooked_request() -> World:
    """Received 3 Mar 09:00, booked 5 Mar, patient cancels 7 Mar, rebooked 8 Mar, attended
    20 Mar 10:00, reported 21 Mar 10:00."""
    world = World()
    request = world.request("MKNEE", "2025-03-03 09:00", states=[
        ("2025-03-03 10:00", "justified"), ("2025-03-04 09:00", "appointable"),
        ("2025-03-05 09:00", "appointed"), ("2025-03-07 09:00", "appointable"),
        ("2025-03-08 09:00", "appointed"), ("2025-03-20 10:00", "attended"),
        ("2025-03-21 10:00", "reported")])
    first = world.appointment(request, "R-MR", "2025-03-14 10:00", 30, "cancelled",
                              booked="2025-03-05 09:00", cancelled="2025-03-07 09:00",
                              cancelled_by="patient")
    world.appointment(request, "R-MR", "2025-03-20 10:00", 30, "attended",
                      booked="2025-03-08 09:00", replaces=first)
    return world


def _network_row(frame, start: S, end: S):
    rows = frame[(frame.by == "network") & (frame.from_state == start.value)
                 & (frame.to_state == end.value)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_first_counting_measures_from_the_first_entry_to_the_first_entry_after_it() -> None:
    table = turnaround(prepare(_rebooked_request().inputs()), window=WINDOW)
    assert _network_row(table, S.APPOINTABLE, S.APPOINTED).median_days == pytest.approx(1.0)
    assert _network_row(table, S.APPOINTED, S.ATTENDED).median_days == pytest.approx(
        15 + HOUR)


def test_a_rebooking_does_not_restart_the_referral_to_test_clock() -> None:
    table = turnaround(prepare(_rebooked_request().inputs()), window=WINDOW)
    row = _network_row(table, S.RECEIVED, S.ATTENDED)
    assert row.intervals == 1
    assert row.median_days == pytest.approx(17 + HOUR)


def test_latest_counting_gives_one_interval_per_booking_after_going_backwards() -> None:
    record = prepare(_rebooked_request().inputs())
    booked = intervals(record, S.APPOINTABLE, S.APPOINTED, WINDOW, counting="latest")
    assert list(booked.days) == pytest.approx([1.0, 1.0])
    seen = intervals(record, S.APPOINTED, S.ATTENDED, WINDOW, counting="latest")
    assert list(seen.days) == pytest.approx([12 + HOUR])


def test_median_and_p90_interpolate_between_ranks() -> None:
    world = World()
    for days in (1, 2, 3, 4, 10):
        world.request("MKNEE", "2025-03-01 09:00",
                      states=[(f"2025-03-{1 + days:02d} 09:00", "attended")])
    row = _network_row(turnaround(prepare(world.inputs()), window=WINDOW), S.RECEIVED,
                       S.ATTENDED)
    assert (row.intervals, row.median_days, row.p90_days) == (5, pytest.approx(3.0),
                                                              pytest.approx(7.6))


def test_groups_by_modality_trust_site_and_priority() -> None:
    world = World()
    ct = world.request("CHEAD", "2025-03-03 09:00", trust="T2", priority="urgent",
                       states=[("2025-03-05 09:00", "attended")])
    world.appointment(ct, "R-CT", "2025-03-05 09:00", 15, "attended", booked="2025-03-03 10:00")
    world.request("MKNEE", "2025-03-03 09:00", states=[("2025-03-13 09:00", "attended")])
    table = turnaround(prepare(world.inputs()), pairs=[(S.RECEIVED, S.ATTENDED)], window=WINDOW)
    medians = {(row.by, row.group): row.median_days for row in table.itertuples()}
    assert medians[("modality", "CT")] == pytest.approx(2.0)
    assert medians[("modality", "MR")] == pytest.approx(10.0)
    assert medians[("trust", "T2")] == pytest.approx(2.0)
    assert medians[("site", "S1")] == pytest.approx(2.0)  # the CT room is at site S1
    assert medians[("site", "none")] == pytest.approx(10.0)  # no appointment recorded
    assert medians[("priority", "urgent")] == pytest.approx(2.0)


@pytest.mark.parametrize(("received", "attended", "hours"), [
    ("2025-03-29 12:00", "2025-03-30 12:00", 23),  # clocks go forward on 30 March
    ("2025-10-25 12:00", "2025-10-26 12:00", 25),  # clocks go back on 26 October
])
def test_durations_are_elapsed_time_across_the_clock_change(received: str, attended: str,
                                                            hours: int) -> None:
    world = World()
    world.request("MKNEE", received, states=[(attended, "attended")])
    found = intervals(prepare(world.inputs()), S.RECEIVED, S.ATTENDED)
    assert list(found.days) == pytest.approx([hours / 24])


def test_an_interval_belongs_to_the_uk_month_in_which_it_ends() -> None:
    world = World()
    # 00:30 BST on 1 April is 23:30 UTC on 31 March: an April interval.
    world.request("MKNEE", "2024-03-25 09:00", states=[("2024-04-01 00:30", "attended")])
    record = prepare(world.inputs())
    march, april = Month.parse("2024-03"), Month.parse("2024-04")
    assert len(intervals(record, S.RECEIVED, S.ATTENDED, (march.start_ns, march.end_ns))
               .days) == 0
    table = turnaround(record, pairs=[(S.RECEIVED, S.ATTENDED)],
                       window=(april.start_ns, april.end_ns))
    assert set(table.month) == {"2024-04"}


def test_unknown_counting_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="first, latest"):
        intervals(prepare(_rebooked_request().inputs()), S.RECEIVED, S.ATTENDED,
                  counting="every")

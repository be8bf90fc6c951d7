"""The travel allowance between two appointments of one patient: nothing at the same site,
the changeover plus the journey between two sites, rounded up to 5 minutes; a clash is an
overlap or a gap shorter than that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.travel import CHANGEOVER_MIN, Place, clashes, travel_allowance

BIRMINGHAM = Place("QE", 52.4511, -1.9431)
ALSO_BIRMINGHAM = Place("QE", 52.4511, -1.9431)
COVENTRY = Place("UHCW", 52.4213, -1.4384)  # about 34 km east
NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_the_same_site_needs_no_allowance() -> None:
    assert travel_allowance(BIRMINGHAM, ALSO_BIRMINGHAM) == timedelta()


def test_two_sites_need_the_changeover_and_the_journey_rounded_up_to_five_minutes() -> None:
    allowance = travel_allowance(BIRMINGHAM, COVENTRY)

    # 34.3 km × 1.3 at 30 km/h = 89 min, + 15 changeover = 104 → 105 minutes
    assert allowance == timedelta(minutes=105)
    assert travel_allowance(COVENTRY, BIRMINGHAM) == allowance


def test_two_sites_at_the_same_spot_still_need_the_changeover() -> None:
    assert travel_allowance(BIRMINGHAM, Place("CDC", BIRMINGHAM.lat, BIRMINGHAM.lon)) == \
        timedelta(minutes=CHANGEOVER_MIN)


@pytest.mark.parametrize(("gap_min", "other", "clash"), [
    (-5, ALSO_BIRMINGHAM, True),   # overlap at the same site
    (0, ALSO_BIRMINGHAM, False),   # back to back at the same site
    (100, COVENTRY, True),         # 100 minutes is less than the 105 needed
    (105, COVENTRY, False),
])
def test_a_clash_is_an_overlap_or_a_gap_shorter_than_the_allowance(
        gap_min: int, other: Place, clash: bool) -> None:
    end = NINE + timedelta(minutes=30)
    other_start = end + timedelta(minutes=gap_min)

    assert clashes(NINE, end, BIRMINGHAM, other_start, other_start + timedelta(minutes=20),
                   other) is clash
    assert clashes(other_start, other_start + timedelta(minutes=20), other, NINE, end,
                   BIRMINGHAM) is clash

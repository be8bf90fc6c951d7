"""The staff availability (rota export) file: read whole or refused naming the row and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.data_files import DataFileError
from domain.network import load_reference_network
from domain.staff_availability import (
    StaffAvailability,
    StaffCalendar,
    load_reference_staff_availability,
    load_staff_availability,
)
from domain.vocabulary import SessionPeriod
from tests.optimiser.conftest import staff

HEADER = "site_id,staff_group_id,date,period,rostered,on_leave,note\n"


def test_the_reference_network_ships_availability_for_its_groups() -> None:
    network = load_reference_network()
    rows = load_reference_staff_availability(network)
    assert len(rows) > 1000
    assert all(0 <= row.available <= row.rostered for row in rows)


@pytest.fixture
def reference_group() -> tuple[str, str, int]:
    group = load_reference_network().staff_groups[0]
    return group.site_id, group.staff_group_id, group.headcount


@pytest.mark.parametrize(("cells", "field"), [
    ("{site},NOPE,2027-03-01,,1,0,", "staff_group_id"),
    ("OTHER-SITE,{group},2027-03-01,,1,0,", "site_id"),
    ("{site},{group},2027-02-30,,1,0,", "date"),
    ("{site},{group},2027-03-01,night,1,0,", "period"),
    ("{site},{group},2027-03-01,,-1,0,", "rostered"),
    ("{site},{group},2027-03-01,,999,0,", "rostered"),
    ("{site},{group},2027-03-01,,1,2,", "on_leave"),
    ("{site},{group},2027-03-01,,1,x,", "on_leave"),
])
def test_a_bad_row_is_refused_naming_its_field(tmp_path: Path, reference_group, cells,
                                               field) -> None:
    site, group, _ = reference_group
    path = tmp_path / "staff_availability.csv"
    path.write_text(HEADER + cells.format(site=site, group=group) + "\n")
    with pytest.raises(DataFileError, match=f"row 2, field '{field}'"):
        load_staff_availability(path, load_reference_network())


def test_a_duplicate_row_for_a_group_date_and_period_is_refused(tmp_path, reference_group):
    site, group, _ = reference_group
    path = tmp_path / "staff_availability.csv"
    path.write_text(HEADER + f"{site},{group},2027-03-01,,1,0,\n" * 2)
    with pytest.raises(DataFileError, match="row 3"):
        load_staff_availability(path, load_reference_network())


def test_a_session_row_overrides_the_whole_day_row() -> None:
    group = staff("G1", "S1", headcount=5)
    rows = [StaffAvailability("S1", "G1", date(2027, 3, 1), None, 5, 1),
            StaffAvailability("S1", "G1", date(2027, 3, 1), SessionPeriod.AFTERNOON, 5, 3)]
    calendar = StaffCalendar([group], rows)
    assert calendar.available("G1", date(2027, 3, 1), SessionPeriod.MORNING) == 4
    assert calendar.available("G1", date(2027, 3, 1), SessionPeriod.AFTERNOON) == 2


def test_without_a_row_the_group_follows_its_usual_pattern() -> None:
    calendar = StaffCalendar([staff("G1", "S1", headcount=5, evenings=False, weekends=True)], [])
    assert calendar.available("G1", date(2027, 3, 1), SessionPeriod.MORNING) == 5
    assert calendar.available("G1", date(2027, 3, 1), SessionPeriod.EVENING) == 0
    assert calendar.available("G1", date(2027, 3, 6), SessionPeriod.MORNING) == 5

"""Bad input to a diary repair is refused with an error naming the field, and nothing is
repaired."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from domain.vocabulary import StaffRole
from optimiser.repair import (
    BlockedSlot,
    ExtraList,
    RepairInputError,
    RoomDown,
    SessionCancelled,
    SiteClosed,
    StaffShort,
    repair_diary,
)
from optimiser.repair.diary import slot_start
from tests.optimiser.repair_world import (
    CT_FOUR,
    EVENING,
    MONDAY,
    MORNING,
    NOW,
    TUESDAY,
    WEDNESDAY,
    Diary,
    request,
)

YESTERDAY = MONDAY - timedelta(days=1)


def _diary() -> Diary:
    diary = Diary().add("S1-CT1", TUESDAY).add("S1-CT2", TUESDAY).add("S2-CT1", TUESDAY)
    diary.book("S1-CT1", TUESDAY, 0)
    return diary


BAD_DISRUPTIONS = {
    "room down in the past": ((RoomDown("S1-CT1", YESTERDAY, TUESDAY),),
                              "disruptions[0].first_day", "in the past"),
    "site closed in the past": ((SiteClosed("S1", YESTERDAY, YESTERDAY),),
                                "disruptions[0].first_day", "in the past"),
    "staff short in the past": ((StaffShort("S1", StaffRole.RADIOGRAPHER, YESTERDAY, MONDAY,
                                            1),), "disruptions[0].first_day", "in the past"),
    "list cancelled in the past": ((SessionCancelled("S1-CT1", YESTERDAY, MORNING),),
                                   "disruptions[0].day", "in the past"),
    "extra list in the past": ((ExtraList("S1-CT1", YESTERDAY, EVENING, "CT_FOUR"),),
                               "disruptions[0].day", "in the past"),
    "ends before it starts": ((RoomDown("S1-CT1", WEDNESDAY, TUESDAY),),
                              "disruptions[0].last_day", "before first_day"),
    "unknown room": ((RoomDown("S9-CT1", TUESDAY, TUESDAY),), "disruptions[0].room_id",
                     "no room 'S9-CT1'"),
    "unknown site": ((SiteClosed("S9", TUESDAY, TUESDAY),), "disruptions[0].site_id",
                     "no site 'S9'"),
    "no one short": ((StaffShort("S1", StaffRole.RADIOGRAPHER, TUESDAY, TUESDAY, 0),),
                     "disruptions[0].people", "not a positive number"),
    "role the site lacks": ((StaffShort("S1", StaffRole.SONOGRAPHER, TUESDAY, TUESDAY, 1),),
                            "disruptions[0].role", "no sonographer groups at S1"),
    "cancelling a list that does not exist": (
        (SessionCancelled("S1-CT1", TUESDAY, EVENING),), "disruptions[0].period",
        "no evening list"),
    "extra list of an unknown template": ((ExtraList("S1-CT1", TUESDAY, EVENING, "MR_X"),),
                                          "disruptions[0].template_id", "no session template"),
    "extra list where one runs": ((ExtraList("S1-CT1", TUESDAY, MORNING, "CT_FOUR"),),
                                  "disruptions[0].period", "already runs a morning list"),
    "overlapping room downs": ((RoomDown("S1-CT1", TUESDAY, WEDNESDAY),
                                RoomDown("S1-CT1", WEDNESDAY, WEDNESDAY)), "disruptions[1]",
                               "overlaps disruptions[0]"),
    "a room down inside a closed site": ((SiteClosed("S1", TUESDAY, TUESDAY),
                                          RoomDown("S1-CT2", TUESDAY, TUESDAY)),
                                         "disruptions[1]", "overlaps disruptions[0]"),
    "a list cancelled in a room already down": (
        (RoomDown("S1-CT1", TUESDAY, TUESDAY), SessionCancelled("S1-CT1", TUESDAY, MORNING)),
        "disruptions[1]", "overlaps disruptions[0]"),
    "an extra list in a room that is down": (
        (RoomDown("S1-CT1", TUESDAY, TUESDAY), ExtraList("S1-CT1", TUESDAY, EVENING,
                                                           "CT_FOUR")),
        "disruptions[1]", "overlaps disruptions[0]"),
    "the same staff shortage twice": (
        (StaffShort("S1", StaffRole.RADIOGRAPHER, TUESDAY, WEDNESDAY, 1),
         StaffShort("S1", StaffRole.RADIOGRAPHER, WEDNESDAY, WEDNESDAY, 1)),
        "disruptions[1]", "overlaps disruptions[0]"),
}


@pytest.mark.parametrize("case", sorted(BAD_DISRUPTIONS))
def test_a_bad_disruption_is_refused_naming_the_field(case):
    disruptions, field_name, words = BAD_DISRUPTIONS[case]
    with pytest.raises(RepairInputError) as refused:
        repair_diary(_diary().problem(*disruptions))
    assert refused.value.field == field_name
    assert str(refused.value).startswith(f"{field_name}: ")
    assert words in str(refused.value)


def _start(day=TUESDAY, slot=0):
    return slot_start(CT_FOUR, day, MORNING, slot)


BAD_BOOKINGS = {
    "unknown room": ({"room_id": "S9-CT1"}, "bookings[1].room_id", "no room"),
    "no list at that time": ({"start": _start(WEDNESDAY)}, "bookings[1].start",
                             "no session of S1-CT1"),
    "between two slots": ({"start": _start() + timedelta(minutes=5)}, "bookings[1].start",
                          "not the start of a slot"),
    "runs past the list": ({"start": _start(slot=3), "request": request(duration=30)},
                           "bookings[1].start", "runs past the end"),
    "overlaps another": ({"start": _start(slot=0)}, "bookings[1].start",
                         "overlaps appointment 1"),
    "no time zone": ({"start": datetime(2027, 3, 2, 8)}, "bookings[1].start", "time zone"),
    "listed twice": ({"appointment_id": 1}, "bookings[1].appointment_id", "listed twice"),
}


@pytest.mark.parametrize("case", sorted(BAD_BOOKINGS))
def test_a_bad_booking_is_refused_naming_the_field(case):
    change, field_name, words = BAD_BOOKINGS[case]
    diary = _diary()
    diary.book("S1-CT1", TUESDAY, 2)
    diary.bookings[1] = replace(diary.bookings[1], **change)
    with pytest.raises(RepairInputError) as refused:
        repair_diary(diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY)))
    assert refused.value.field == field_name
    assert words in str(refused.value)


def test_a_session_for_an_unknown_template_is_refused():
    diary = _diary()
    diary.sessions[1] = replace(diary.sessions[1], template_id="NOPE")
    with pytest.raises(RepairInputError) as refused:
        repair_diary(diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY)))
    assert refused.value.field == "sessions[1].template_id"


def test_a_blocked_slot_outside_any_list_is_refused():
    problem = _diary().problem(RoomDown("S1-CT1", TUESDAY, TUESDAY),
                               blocked_slots=(BlockedSlot("S1-CT2", _start(WEDNESDAY)),))
    with pytest.raises(RepairInputError) as refused:
        repair_diary(problem)
    assert refused.value.field == "blocked_slots[0].start"


def test_a_disruption_starting_today_is_accepted():
    problem = _diary().problem(RoomDown("S1-CT1", TUESDAY, TUESDAY),
                               now=NOW + timedelta(days=1))
    result = repair_diary(problem)
    assert result.forced_moves == 1

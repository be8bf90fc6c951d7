"""`repair_diary` on diaries small enough to know the best repair by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from domain.vocabulary import Priority, StaffRole
from optimiser.repair import (
    ExtraList,
    RepairSettings,
    RoomDown,
    SessionCancelled,
    StaffShort,
    check_repair,
    repair_diary,
)
from tests.optimiser.repair_world import (
    CT_FOUR,
    EVENING,
    MORNING,
    NOW,
    TUESDAY,
    WEDNESDAY,
    Diary,
    request,
)


def test_patients_of_a_room_that_is_down_move_to_free_slots_the_same_day():
    diary = Diary().add("S1-CT1", TUESDAY).add("S1-CT2", TUESDAY)
    moving = [diary.book("S1-CT1", TUESDAY, slot) for slot in (0, 1)]
    diary.book("S1-CT2", TUESDAY, 0)
    problem = diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY, "tube failure"))
    result = repair_diary(problem)
    assert sorted(m.appointment_id for m in result.moves) == moving
    assert {m.target.room_id for m in result.moves} == {"S1-CT2"}
    assert {m.target.date for m in result.moves} == {TUESDAY}
    assert all(m.forced and "tube failure" in m.reason for m in result.moves)
    assert (result.forced_moves, result.excess_moves, result.changed_sessions) == (2, 0, 0)
    assert check_repair(problem, result) == []


def test_a_patient_is_never_moved_to_a_site_they_did_not_accept():
    diary = Diary.one_room_at_s1().add("S1-CT1", TUESDAY).add("S2-CT1", TUESDAY)
    patient = diary.book("S1-CT1", TUESDAY, 0, request(acceptable_sites=frozenset({"S1"})))
    result = repair_diary(diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY),
                                        staff_availability=diary.rota_for_lists_only()))
    assert result.moves == ()
    assert [u.appointment_id for u in result.unplaced] == [patient]
    assert "acceptable-site: Not one of the sites the patient chose" in result.unplaced[0].reason


def test_a_patient_is_never_moved_outside_their_clinical_window():
    diary = Diary.one_room_at_s1().add("S1-CT1", TUESDAY).add("S1-CT1", WEDNESDAY)
    diary.book("S1-CT1", TUESDAY, 0, request(latest_date=TUESDAY))
    result = repair_diary(diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY),
                                        staff_availability=diary.rota_for_lists_only()))
    assert result.moves == ()
    assert "clinical-window" in result.unplaced[0].reason


def test_when_every_eligible_slot_is_taken_the_reason_says_so():
    diary = Diary.one_room_at_s1().add("S1-CT1", TUESDAY)
    diary.book("S1-CT1", TUESDAY, 0)
    for day in (WEDNESDAY, WEDNESDAY + timedelta(days=1)):
        diary.add("S1-CT1", day)
        for slot in range(4):
            diary.book("S1-CT1", day, slot)
    result = repair_diary(diary.problem(SessionCancelled("S1-CT1", TUESDAY, MORNING),
                                        staff_availability=diary.rota_for_lists_only()))
    assert len(result.unplaced) == 1
    assert "slots that pass the rules in the neighbourhood" in result.unplaced[0].reason
    assert "are taken" in result.unplaced[0].reason


def test_a_list_is_opened_where_staff_allow_when_running_lists_are_full():
    diary = Diary().add("S1-CT1", TUESDAY).add("S1-CT2", TUESDAY)
    for slot in range(4):
        diary.book("S1-CT1", TUESDAY, slot)
        diary.book("S1-CT2", TUESDAY, slot)
    result = repair_diary(diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY)))
    assert result.unplaced == ()
    opened = [c for c in result.session_changes if not c.by_disruption]
    assert opened and all(c.before is None and c.after for c in opened)
    assert {m.target.room_id for m in result.moves} <= {c.room_id for c in opened}


def test_an_extra_list_takes_the_patients_of_a_cancelled_one():
    diary = Diary.one_room_at_s1().add("S1-CT1", TUESDAY)
    moving = [diary.book("S1-CT1", TUESDAY, slot) for slot in range(3)]
    extra = ExtraList("S1-CT1", TUESDAY, EVENING, "CT_FOUR", "evening list")
    result = repair_diary(diary.problem(SessionCancelled("S1-CT1", TUESDAY, MORNING), extra,
                                        staff_availability=diary.rota_for_lists_only()))
    assert sorted(m.appointment_id for m in result.moves) == moving
    assert {(m.target.period, m.target.room_id) for m in result.moves} == {(EVENING,
                                                                            "S1-CT1")}
    added = [c for c in result.session_changes if c.before is None]
    assert [(c.after, c.by_disruption) for c in added] == [("CT_FOUR", True)]


def test_staff_short_closes_the_list_that_displaces_fewest_patients():
    diary = Diary().add("S1-CT1", TUESDAY).add("S1-CT2", TUESDAY)
    for slot in range(3):
        diary.book("S1-CT1", TUESDAY, slot)
    emptier = diary.book("S1-CT2", TUESDAY, 0)
    problem = diary.problem(StaffShort("S1", StaffRole.RADIOGRAPHER, TUESDAY, TUESDAY, 2))
    result = repair_diary(problem)
    closed = [c for c in result.session_changes if c.after is None]
    assert [(c.room_id, c.by_disruption) for c in closed] == [("S1-CT2", False)]
    assert result.forced_moves == 1
    assert [m.appointment_id for m in result.moves + result.unplaced] == [emptier]
    assert check_repair(problem, result) == []


def test_an_urgent_patient_may_displace_a_routine_one_with_room_elsewhere():
    # one free slot on Tuesday; the urgent patient must be seen on Tuesday, the routine
    # patient in it can wait until Wednesday
    diary = Diary.one_room_at_s1().add("S1-CT1", TUESDAY).add("S1-CT1", WEDNESDAY)
    diary.add("S1-CT1", TUESDAY, EVENING)
    urgent = diary.book("S1-CT1", TUESDAY, 0, request(priority=Priority.URGENT,
                                                      latest_date=TUESDAY), period=EVENING)
    routine = diary.book("S1-CT1", TUESDAY, 0)
    for slot in (1, 2, 3):
        diary.book("S1-CT1", TUESDAY, slot, request(latest_date=TUESDAY))
    result = repair_diary(diary.problem(SessionCancelled("S1-CT1", TUESDAY, EVENING),
                                        staff_availability=diary.rota_for_lists_only()))
    moved = {m.appointment_id: m for m in result.moves}
    assert moved[urgent].target.date == TUESDAY and moved[urgent].forced
    assert moved[routine].target.date == WEDNESDAY and not moved[routine].forced
    assert "to free a slot" in moved[routine].reason
    assert result.excess_moves == 1 and result.unplaced == ()


def test_a_routine_patient_does_not_displace_another():
    diary = Diary.one_room_at_s1().add("S1-CT1", TUESDAY).add("S1-CT1", WEDNESDAY)
    diary.add("S1-CT1", TUESDAY, EVENING)
    diary.book("S1-CT1", TUESDAY, 0, request(latest_date=TUESDAY), period=EVENING)
    for slot in range(4):
        diary.book("S1-CT1", TUESDAY, slot, request(latest_date=TUESDAY if slot else None))
    result = repair_diary(diary.problem(SessionCancelled("S1-CT1", TUESDAY, EVENING),
                                        staff_availability=diary.rota_for_lists_only()))
    assert result.excess_moves == 0
    assert len(result.unplaced) == 1


def test_a_tiny_time_limit_still_returns_a_checked_plan():
    diary = Diary().add("S1-CT1", TUESDAY).add("S1-CT2", TUESDAY).add("S2-CT1", WEDNESDAY)
    for slot in range(4):
        diary.book("S1-CT1", TUESDAY, slot)
    problem = diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY))
    result = repair_diary(problem, RepairSettings(time_limit_s=0.001))
    assert result.method == "greedy"
    assert result.forced_moves == 4 and result.unplaced == ()
    assert check_repair(problem, result) == []


def test_the_result_prints_a_line_per_change_and_serialises_to_json():
    diary = Diary().add("S1-CT1", TUESDAY).add("S1-CT2", TUESDAY)
    diary.book("S1-CT1", TUESDAY, 0)
    result = repair_diary(diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY)))
    lines = result.lines()
    assert lines[0].startswith("S1-CT1 2027-03-02 morning: CT_FOUR -> closed")
    assert "appointment 1 (routine): S1 S1-CT1 Tue 02 Mar 08:00 -> S1 S1-CT2" in lines[1]
    document = json.loads(json.dumps(result.to_dict()))
    assert document["moves"][0]["target"]["room_id"] == "S1-CT2"
    assert document["forced_moves"] == 1


def test_lists_beyond_the_neighbourhood_are_left_alone():
    diary = Diary.one_room_at_s1(near_km=50.0).add("S1-CT1", TUESDAY).add("S2-CT1", TUESDAY)
    diary.book("S1-CT1", TUESDAY, 0)
    result = repair_diary(diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY),
                                        staff_availability=diary.rota_for_lists_only()))
    assert result.neighbourhood["sites"] == ["S1"]
    assert result.moves == () and len(result.unplaced) == 1
    assert CT_FOUR.template_id in result.lines()[0]


def test_no_one_is_moved_into_a_slot_too_soon_to_tell_them():
    diary = Diary().add("S1-CT1", TUESDAY).add("S1-CT2", TUESDAY).add("S1-CT2", WEDNESDAY)
    diary.add("S1-CT1", TUESDAY, EVENING)
    diary.book("S1-CT1", TUESDAY, 0, period=EVENING)
    tuesday_morning = NOW + timedelta(days=1)
    problem = diary.problem(SessionCancelled("S1-CT1", TUESDAY, EVENING), now=tuesday_morning,
                            staff_availability=diary.rota_for_lists_only())
    result = repair_diary(problem, RepairSettings(notice_hours=4))
    assert [m.target.date for m in result.moves] == [WEDNESDAY]
    soon = repair_diary(problem, RepairSettings(notice_hours=0))
    assert [m.target.date for m in soon.moves] == [TUESDAY]


def _moved_elsewhere(result, **target):
    move = result.moves[0]
    return replace(result, moves=(replace(move, target=replace(move.target, **target)),))


def test_the_check_catches_a_patient_put_into_a_list_that_does_not_run():
    diary = Diary().add("S1-CT1", TUESDAY).add("S1-CT2", TUESDAY)
    diary.book("S1-CT1", TUESDAY, 0)
    problem = diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY))
    result = repair_diary(problem)
    start = result.moves[0].source.start
    wrong = _moved_elsewhere(result, room_id="S1-CT1", start=start)
    assert any("its list does not run" in p for p in check_repair(problem, wrong))


def test_the_check_catches_two_patients_in_one_slot():
    diary = Diary().add("S1-CT1", TUESDAY).add("S1-CT2", TUESDAY)
    diary.book("S1-CT1", TUESDAY, 0)
    staying = diary.book("S1-CT2", TUESDAY, 3)
    problem = diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY))
    result = repair_diary(problem)
    held = next(b.start for b in problem.bookings if b.appointment_id == staying)
    wrong = _moved_elsewhere(result, room_id="S1-CT2", start=held)
    assert any(f"appointment {staying}: shares a slot with 1" in p
               for p in check_repair(problem, wrong))


def test_the_check_catches_a_move_to_a_site_the_patient_refused():
    diary = Diary().add("S1-CT1", TUESDAY).add("S1-CT2", TUESDAY).add("S2-CT1", TUESDAY)
    diary.book("S1-CT1", TUESDAY, 0, request(acceptable_sites=frozenset({"S1"})))
    problem = diary.problem(RoomDown("S1-CT1", TUESDAY, TUESDAY))
    result = repair_diary(problem)
    assert result.moves[0].target.site_id == "S1"
    wrong = _moved_elsewhere(result, room_id="S2-CT1", site_id="S2")
    assert any("fails the slot rules" in p for p in check_repair(problem, wrong))

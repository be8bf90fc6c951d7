"""How free times are offered: one radio per start time whatever the number of rooms, the
chosen room tried first then the others at that time, and the nearest other times after a
time is lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking_api.search.services import SlotOffer
from patient_portal.offers import nearest_times, one_per_time, parts_of_day, same_time

NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _offer(slot_id: int, minutes: int, room: str = "R1") -> SlotOffer:
    start = NINE + timedelta(minutes=minutes)
    return SlotOffer(slot_id=slot_id, site_id="S1", site_name="Site", room_id=room,
                     start_at=start, end_at=start + timedelta(minutes=10), distance_km=1.0)


def test_two_rooms_free_at_one_time_make_one_choice() -> None:
    offers = [_offer(2, 0, "R2"), _offer(1, 0, "R1"), _offer(3, 10)]
    assert [o.slot_id for o in one_per_time(offers)] == [2, 3]


def test_the_chosen_slot_is_tried_first_then_the_other_rooms_at_that_time() -> None:
    offers = [_offer(1, 0), _offer(2, 0, "R2"), _offer(3, 10), _offer(4, 0, "R3")]
    assert [o.slot_id for o in same_time(offers, offers[1])] == [2, 1, 4]


def test_the_nearest_other_times_are_the_five_closest_in_time_order() -> None:
    offers = [_offer(i, 10 * i) for i in range(12)]
    wanted = NINE + timedelta(minutes=56)
    assert [o.slot_id for o in nearest_times(offers, wanted)] == [4, 5, 6, 7, 8]


def test_times_are_grouped_by_part_of_the_day_in_uk_time() -> None:
    offers = [_offer(1, 0), _offer(2, 60 * 3), _offer(3, 60 * 9)]  # 9am, 12pm, 6pm UTC
    groups = parts_of_day(offers)
    assert [(part, [o.slot_id for o in times]) for part, times in groups] == [
        ("Morning", [1]), ("Afternoon", [2]), ("Evening", [3])]


def test_empty_parts_of_the_day_are_left_out() -> None:
    assert [part for part, _ in parts_of_day([_offer(1, 0)])] == ["Morning"]

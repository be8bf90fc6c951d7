"""Slot search on SQLite and PostgreSQL: free, eligible slots across sites, soonest or nearest,
with each site's earliest slot and distance; the index follows bookings, holds and blocks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, delete

from booking_api.appointments import services
from booking_api.core.db import transaction
from booking_api.core.errors import (
    InvalidInput,
    NotFound,
    RequestNotBookable,
    SlotNotEligible,
)
from booking_api.diary.blocking import block_slot
from booking_api.network.models import Site
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from booking_api.search.index import SlotIndex
from booking_api.search.services import SearchQuery, SortOrder, search_slots
from booking_api.slots.models import DiarySession, Slot
from domain.lifecycle import RequestState
from tests.booking_api.booking_world import (
    CLERK,
    NOW,
    World,
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]


@pytest.fixture
def world(booking_engine: Engine, tiny_network, tiny_catalogue) -> World:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, slots_per_room=4)
    with transaction(booking_engine) as session:
        far = session.get(Site, "S2")
        far.lat, far.lon = 52.60, -1.50  # about 30 km from the patients' district (B15)
        session.add(far)
    return world


def _search(world: World, query: SearchQuery = SearchQuery(), who: int = 0,
            index: SlotIndex | None = None, now=NOW):
    index = index or SlotIndex(max_staleness_s=0)
    with transaction(world.engine) as session:
        return search_slots(session, index, world.requests[who], query, now=now,
                            patient_id=world.patients[who])


def test_search_offers_every_free_slot_soonest_first_with_each_sites_earliest(world) -> None:
    result = _search(world)

    starts = [offer.start_at for offer in result.slots]
    assert result.eligible_slots == 8 and len(result.slots) == 8
    assert starts == sorted(starts)
    assert {s.site_id: s.eligible_slots for s in result.sites} == {"S1": 4, "S2": 4}
    assert all(offer.fhir_status == "free" for offer in result.slots)
    near, far = sorted(result.sites, key=lambda s: s.distance_km)
    assert (near.site_id, far.site_id) == ("S1", "S2")
    assert near.distance_km < 5 < 25 < far.distance_km < 35


def test_nearest_puts_the_nearer_sites_slots_first(world) -> None:
    result = _search(world, SearchQuery(sort=SortOrder.NEAREST, limit=5))

    assert [offer.site_id for offer in result.slots] == ["S1"] * 4 + ["S2"]
    assert [s.site_id for s in result.sites] == ["S1", "S2"]


def test_the_patients_constraints_narrow_the_search(world) -> None:
    assert {o.site_id for o in _search(world, SearchQuery(max_km=10)).slots} == {"S1"}
    assert {o.site_id for o in _search(world, SearchQuery(sites=frozenset({"S2"}))).slots} == {
        "S2"}
    assert _search(world, SearchQuery(from_date=date(2026, 12, 8))).eligible_slots == 0


def _make_s2_a_childrens_hospital(world: World) -> None:
    with transaction(world.engine) as session:
        site = session.get(Site, "S2")
        site.age_limit_years = 16
        session.add(site)


def test_an_adult_is_not_offered_a_childrens_hospital_nor_booked_there(world) -> None:
    _make_s2_a_childrens_hospital(world)

    offered = {offer.site_id for offer in _search(world).slots}

    assert offered == {"S1"}
    with pytest.raises(SlotNotEligible, match="A children's hospital: not for a patient aged"
                       ) as refused, transaction(world.engine) as session:
        services.book_slot(session, world.patient_actor(0), world.requests[0],
                           world.slots["S2-XR1"][0], now=NOW, patient_id=world.patients[0])
    assert refused.value.field == "slot_id"


def test_a_child_is_offered_the_childrens_hospital_too(world) -> None:
    _make_s2_a_childrens_hospital(world)
    with transaction(world.engine) as session:
        session.get(Patient, world.patients[0]).date_of_birth = date(2016, 3, 1)

    assert {offer.site_id for offer in _search(world).slots} == {"S1", "S2"}


def test_the_index_follows_bookings_blocks_and_expired_holds(world) -> None:
    index = SlotIndex(max_staleness_s=0)
    slots = world.slots["S1-XR1"]
    assert _search(world, index=index).eligible_slots == 8
    with transaction(world.engine) as session:
        services.book_slot(session, CLERK, world.requests[1], slots[0], now=NOW)
        services.hold_slot(session, CLERK, world.requests[2], slots[1], now=NOW,
                           hold_minutes=10)
        block_slot(session, CLERK, slots[2], "room closed", now=NOW)

    offered = {o.slot_id for o in _search(world, index=index).slots}
    later = {o.slot_id for o in _search(world, index=index,
                                        now=NOW + timedelta(minutes=11)).slots}

    assert slots[0] not in offered and slots[1] not in offered and slots[2] not in offered
    assert slots[3] in offered
    assert slots[1] in later and slots[0] not in later


def test_an_exam_longer_than_a_slot_is_offered_only_where_it_fits(
        booking_engine: Engine, tiny_network, tiny_catalogue) -> None:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, slots_per_room=3,
                        slot_minutes=5, exam_code="XKNEE")

    result = _search(world)

    assert {o.slot_id for o in result.slots} == {
        *world.slots["S1-XR1"][:2], *world.slots["S2-XR1"][:2]}


def test_search_refuses_a_request_that_is_not_appointable(world) -> None:
    with transaction(world.engine) as session:
        request = session.get(Request, world.requests[0])
        request.state = RequestState.WAITING
        session.add(request)

    with pytest.raises(RequestNotBookable, match="waiting"):
        _search(world)


def test_search_hides_another_patients_request(world) -> None:
    with pytest.raises(NotFound), transaction(world.engine) as session:
        search_slots(session, SlotIndex(), world.requests[0], SearchQuery(), now=NOW,
                     patient_id=world.patients[1])


@pytest.mark.parametrize(("fields", "field"), [
    ({"limit": 0}, "limit"),
    ({"limit": 10_000}, "limit"),
    ({"max_km": 0}, "max_km"),
    ({"max_km": -3.0}, "max_km"),
    ({"from_date": date(2026, 12, 9), "to_date": date(2026, 12, 8)}, "to_date"),
])
def test_a_bad_query_is_refused_naming_the_field(fields, field) -> None:
    with pytest.raises(InvalidInput) as refused:
        SearchQuery(**fields)
    assert refused.value.field == field



def test_a_network_without_slots_gives_an_empty_answer(world) -> None:
    with transaction(world.engine) as session:
        session.execute(delete(Slot))
        session.execute(delete(DiarySession))

    result = _search(world)

    assert (result.eligible_slots, result.slots, result.sites) == (0, (), ())

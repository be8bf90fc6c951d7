"""One slot search as the API runs it: the request's facts read from SQLite, the exam's
modality judged in the loaded search index, the best 20 offers ranked. The index's catch-up
query is left out (it runs at most every 0.25 s, not per search)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking_api.core.db import Database
from booking_api.search.index import SlotIndex
from booking_api.search.services import SearchQuery, SearchResult, search_slots
from cdip_bench.booking_data import BenchWorld

NO_CATCH_UP_S = 24 * 3600.0


@pytest.fixture(scope="module")
def loaded_index(service_database: Database) -> SlotIndex:
    index = SlotIndex(max_staleness_s=NO_CATCH_UP_S)
    with service_database.reading() as session:
        index.refresh(session, force=True)
    return index


def test_one_search_for_a_chest_x_ray_through_the_loaded_index(
        benchmark, booking_world: BenchWorld, service_database: Database,
        loaded_index: SlotIndex) -> None:
    request_id = booking_world.simple_requests[0]
    now = datetime.now(UTC)

    def search() -> SearchResult:
        with service_database.reading() as session:
            return search_slots(session, loaded_index, request_id, SearchQuery(), now=now)

    result = benchmark(search)

    assert len(result.slots) == SearchQuery().limit
    assert result.eligible_slots > 1000

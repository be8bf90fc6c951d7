"""`cdip bench booking` at a small scale, on SQLite and PostgreSQL: every booking it aims at is
one its patients may take, the contended slots end with one winner each and plain 409s for
the rest, and the figures the issue asks for are all there. (The full-scale run is the
benchmark itself: minutes, not a test.)"""

from __future__ import annotations

import pytest

from cdip_bench.booking import booking_benchmark

REQUIRED = {"database", "slots", "search_p50_ms", "search_p95_ms", "bookings_per_s",
            "contention_attempts", "double_bookings"}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_small_benchmark_books_every_slot_it_aims_at_and_never_double_books(
        kind: str, request: pytest.FixtureRequest) -> None:
    server = "" if kind == "sqlite" else request.getfixturevalue("postgres_database_url")

    figures = booking_benchmark(server, weeks=1, searches=8, search_clients=2,
                                baseline_searches=2, bookings=200, booking_clients=4,
                                contention_attempts=200, hot_slots=5, contention_clients=4)

    assert figures.keys() >= REQUIRED
    assert figures["database"] == kind
    assert (figures["bookings"], figures["booking_errors"]) == (200, 0)
    assert figures["search_errors"] == 0
    assert (figures["contention_winners"], figures["contention_conflicts_409"],
            figures["contention_other_errors"]) == (5, 195, 0)
    assert figures["double_bookings"] == 0

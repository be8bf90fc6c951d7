"""`cdip bench console` at a small scale, on SQLite and PostgreSQL: the synthetic waiting
list is loaded as open requests, every page it times answers 200 to the signed-in clerk
(it raises otherwise), the deep walk follows the keyset cursor, and the figures the issue
asks for are all there. (The full-scale run is the benchmark itself.)"""

from __future__ import annotations

import pytest

from cdip_bench.console import console_benchmark

REQUIRED = {"open_requests", "worklist_p95_ms", "request_page_p95_ms", "diary_day_p95_ms"}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_small_console_benchmark_loads_the_waiting_list_and_times_every_page(
        kind: str, request: pytest.FixtureRequest) -> None:
    server = "" if kind == "sqlite" else request.getfixturevalue("postgres_database_url")

    figures = console_benchmark(server, scale=0.02, weeks=1, worklist_pages=10, deep_pages=4,
                                request_pages=5, diary_days=5)

    assert figures.keys() >= REQUIRED
    assert figures["database"] == kind
    assert figures["open_requests"] > 2_000
    assert figures["worklist_deep_page_depth"] == 4
    assert all(figures[key] > 0 for key in REQUIRED - {"open_requests"})

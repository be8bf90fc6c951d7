"""`cdip bench messages` at a small scale (the full run is the benchmark itself): every figure
the issue asks for is there, for two workers and for one, nothing lost or duplicated; and
it refuses SQLite, naming the option, since its workers share PostgreSQL."""

from __future__ import annotations

import pytest

from cdip_bench.messages import messages_benchmark

REQUIRED = {"messages", "messages_per_s", "p95_enqueue_to_send_ms", "lost", "duplicated",
            "sent_for_cancelled", "workers"}


@pytest.mark.postgres
@pytest.mark.slow
def test_a_small_run_reports_every_figure_for_two_workers_and_for_one(
        postgres_database_url: str) -> None:
    figures = messages_benchmark(postgres_database_url, workers=2, concurrency=2, paced=4,
                                 paced_per_s=8, backlog=8, rounds=1, faulty=8,
                                 latency_min_ms=10, latency_max_ms=30, faults=False)

    assert figures.keys() >= REQUIRED
    assert (figures["lost"], figures["duplicated"], figures["sent_for_cancelled"]) == (0, 0, 0)
    assert figures["drained"] and figures["messages"] > 0
    one = figures["one_worker"]
    assert (figures["workers"], one["workers"]) == (2, 1)
    assert one["messages_per_s"] and one["p95_enqueue_to_send_ms"] is not None
    assert figures["speedup_vs_one_worker"] is not None


def test_sqlite_is_refused_naming_the_option() -> None:
    with pytest.raises(ValueError, match="--database-url"):
        messages_benchmark("sqlite:///x.sqlite3")

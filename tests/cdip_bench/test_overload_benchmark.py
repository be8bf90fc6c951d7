"""`cdip bench overload` at a small scale on SQLite: a flood of 20 clients and a clerk beside
it, every figure the issue asks for present, every clerk booking made, no 5xx but the guard's,
nothing double booked. (The full run is the benchmark itself: minutes, not a test.)"""

from __future__ import annotations

from cdip_bench.overload import overload_benchmark


def test_a_small_flood_reports_every_figure_and_the_clerk_books_throughout() -> None:
    figures = overload_benchmark(floods="20", rounds=1, bookings=3, pause_s=0.05, ramp_s=0.3)

    for name in ("baseline_clerk_p50_ms", "baseline_clerk_p95_ms", "flood_20_clerk_p95_ms",
                 "flood_20_clerk_p95_vs_baseline", "flood_20_clerk_max_ms",
                 "flood_20_flood_max_ms", "flood_20_flood_overload_503", "targets_met"):
        assert name in figures
    assert (figures["baseline_clerk_booked"], figures["flood_20_clerk_booked"]) == (3, 3)
    assert figures["flood_20_clerk_5xx"] == 0
    assert figures["flood_20_flood_other_5xx"] == 0
    assert figures["flood_20_flood_connection_errors"] == 0
    assert figures["flood_20_flood_requests_per_s"] > 0
    assert figures["double_bookings"] == 0

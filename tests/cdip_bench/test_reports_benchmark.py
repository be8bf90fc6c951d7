"""`cdip bench reports` at a small scale: it reports the figures the issue names (the
full-scale run is the benchmark itself: minutes, not a test)."""

from __future__ import annotations

from cdip_bench.reports import reports_benchmark


def test_small_benchmark_reports_its_figures() -> None:
    figures = reports_benchmark(weeks=6, scale=0.02, seed=2, repeats=2)
    for key in ("appointments", "figures_seconds", "dm01_seconds", "did_seconds"):
        assert key in figures
    assert figures["month"] == "2024-04"
    assert figures["appointments"] > 1000
    assert figures["did_rows"] > 0 and figures["dm01_rows"] == 15 * 3
    assert figures["total_seconds"] > 0
    assert len(figures["total_seconds_each"]) == 2

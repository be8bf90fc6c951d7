"""`cdip bench backfill` at a small scale (one site, three days): every figure the issue
names is there, counted in SQL, with the baseline and the naive policy beside it; no double
booking and no rule broken in any of the three runs."""

from __future__ import annotations

from cdip_bench.backfill import backfill_benchmark

KEYS = {"freed_slots", "fill_rate_48h_plus", "fill_rate_all", "median_days_sooner",
        "p95_cancel_to_first_offer_s", "offers_per_fill", "max_cascade_depth",
        "double_bookings", "rule_violations", "fill_rate_baseline", "naive_offers_per_fill",
        "naive_fill_rate_48h_plus"}


def test_the_backfill_benchmark_reports_every_figure_at_a_small_scale():
    figures = backfill_benchmark(seed=2, sites="UHB-CHW", days=3)
    assert figures.keys() >= KEYS
    assert figures["cancellations"] > 0 and figures["freed_slots"] >= figures["cancellations"]
    assert figures["fill_rate_baseline"] == 0.0  # nothing reads the list without backfill
    assert figures["double_bookings"] == figures["naive_double_bookings"] == 0
    assert figures["rule_violations"] == figures["naive_rule_violations"] == 0
    assert figures["offers_sent"] > 0

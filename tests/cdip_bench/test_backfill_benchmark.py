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


def test_over_several_seeds_each_figure_is_the_median_and_zero_targets_are_summed():
    figures = backfill_benchmark(seed=2, sites="UHB-CHW", days=2, seeds=3)
    assert figures["seeds"] == [2, 3, 4] and len(figures["per_seed"]) == 3
    runs = [run["freed_slots"] for run in figures["per_seed"]]
    assert figures["median_over_seeds"]["freed_slots"] == sorted(runs)[1]
    assert figures["total_over_seeds"]["double_bookings"] == sum(
        run["double_bookings"] for run in figures["per_seed"]) == 0

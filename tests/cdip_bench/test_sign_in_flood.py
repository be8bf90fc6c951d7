"""`cdip bench signin` runs end to end on a small burst: both servers answer every sign-in,
the bounded one never with a server error, and the figures come with their baseline."""

from __future__ import annotations

from cdip_bench.sign_in_flood import sign_in_flood_benchmark


def test_a_small_burst_is_measured_against_its_unbounded_baseline() -> None:
    figures = sign_in_flood_benchmark(concurrent=4, rounds=1, hash_slots=1)

    for label in ("bounded", "unbounded"):
        answers = figures[label]["answers"]
        assert sum(answers.values()) == 4
        assert figures[label]["peak_rss_mib"] > 0
    assert set(figures["bounded"]["answers"]) <= {"200", "503"}
    assert figures["peak_rss_ratio"] > 0 and figures["health_p95_ratio"] > 0

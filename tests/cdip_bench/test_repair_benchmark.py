"""The repair benchmark's own arithmetic."""

from cdip_bench.repair import _percentile


def test_the_benchmark_quotes_the_nearest_rank_percentile():
    assert _percentile([float(i) for i in range(1, 21)], 0.95) == 19.0
    assert _percentile([3.0], 0.95) == 3.0

"""`cdip bench simulate` measures the whole reference network, and replications per minute
on a real local dask cluster of one and of two workers in the same run."""

from cdip_bench.simulate import simulate_benchmark


def test_the_simulate_bench_runs_the_whole_network_on_one_and_two_dask_workers():
    figures = simulate_benchmark(weeks=2, warmup=1, replications=2, replication_weeks=2,
                                 rounds=1)

    assert (figures["sites"], figures["rooms"], figures["trusts"]) == (47, 797, 15)
    assert 85_000 < figures["referrals_per_week"] < 100_000
    assert figures["events"] > 100_000 and figures["seconds_per_network_year"] > 0
    assert len(figures["replications_per_minute_1_worker"]) == 1
    assert len(figures["replications_per_minute_2_workers"]) == 1
    assert figures["speedup_2_vs_1_worker"] > 0
    assert figures["cpu_seconds_per_replication_2_workers"] > 0
    assert figures["mmc_relative_error"] < 0.05

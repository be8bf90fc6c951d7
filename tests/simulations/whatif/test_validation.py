"""The engine against what is known: Erlang C for the single queue, an independent SimPy
model for a small network's booking queue, and the same numbers from the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from simulations.synthetic_history.appointments import VETTING_DELAY_MEAN_DAYS
from simulations.whatif.engine import simulate
from simulations.whatif.erlang import erlang_c_wait
from simulations.whatif.inputs import Breakdowns, Policies
from simulations.whatif.mmc_check import mmc_check
from simulations.whatif.scenario import parse_scenario
from simulations.whatif.scenario_inputs import compile_inputs
from tests.simulations.whatif.simpy_booking import simpy_mean_wait
from tests.simulations.whatif.small_network import small_start

ROUTINE = 2


def test_erlang_c_matches_the_textbook_value():
    # M/M/2 with load 0.5 (lambda 1, mu 1): Wq = 1/3
    assert erlang_c_wait(1.0, 1.0, 2) == pytest.approx(1 / 3)


def test_single_queue_reproduces_erlang_c_within_five_percent():
    check = mmc_check(servers=3, load=0.8, customers=200_000, replications=3, seed=1)
    assert check.relative_error < 0.05


def _small_inputs(weekly: float, weeks: int = 30, warmup: int = 6):
    start = small_start(weekly)
    scenario = parse_scenario("name: small network\npolicies: {breakdowns: false}")
    inputs = compile_inputs(start, scenario, baseline=False, weeks=weeks, warmup_weeks=warmup)
    policies = Policies(breakdowns=Breakdowns(enabled=False), patient_events=False)
    return inputs.__class__(**{**inputs.__dict__, "policies": policies})


def _engine_mean_wait(inputs, seed: int) -> float:
    result = simulate(inputs, seed)
    histogram = result.wait_days.sum(axis=(0, 1))
    return float((histogram * np.arange(len(histogram))).sum() / histogram.sum())


def test_small_network_agrees_with_an_independent_simpy_model():
    inputs = _small_inputs(weekly=140.0)
    week = inputs.week_slots(0).sum(axis=0).sum(axis=1)  # slots by weekday
    daily = inputs.world.weekly_rate.sum() * inputs.world.weekday_share[
        inputs.world.cells[0, 0]]
    ours = np.mean([_engine_mean_wait(inputs, seed) for seed in range(4)])
    theirs = np.mean([simpy_mean_wait(daily, week, VETTING_DELAY_MEAN_DAYS[ROUTINE],
                                      inputs.weeks, inputs.warmup_weeks,
                                      inputs.policies.release_weeks, seed)
                      for seed in range(4)])
    assert abs(ours - theirs) / theirs < 0.05


def test_waits_grow_as_the_queue_fills():
    quiet = _engine_mean_wait(_small_inputs(weekly=100.0), 0)
    busy = _engine_mean_wait(_small_inputs(weekly=155.0), 0)
    assert busy > quiet


def test_same_seed_gives_the_same_numbers():
    inputs = _small_inputs(weekly=140.0, weeks=10, warmup=2)
    first, second = simulate(inputs, 7), simulate(inputs, 7)
    for name in ("wait_days", "census", "weekly", "attended", "planned"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert first.events == second.events


def test_another_seed_gives_other_numbers():
    inputs = _small_inputs(weekly=140.0, weeks=10, warmup=2)
    assert not np.array_equal(simulate(inputs, 1).wait_days, simulate(inputs, 2).wait_days)

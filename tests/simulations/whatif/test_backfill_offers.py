"""Backfill in the what-if engine: freed slots are offered to the patients actually waiting,
each answering by the response model; the fill rate counts the slots they took."""

from __future__ import annotations

from simulations.whatif.engine import simulate
from simulations.whatif.scenario import parse_scenario
from simulations.whatif.scenario_inputs import compile_inputs
from simulations.whatif.summary import replication_figures
from tests.simulations.whatif.small_network import small_start


def _busy_inputs(backfill: bool):
    """Busy enough that patients wait unbooked (offers go to them, not to those booked)."""
    scenario = parse_scenario(f"name: offers\npolicies: {{backfill: {str(backfill).lower()}}}")
    return compile_inputs(small_start(260.0), scenario, baseline=False, weeks=14,
                          warmup_weeks=4)


def test_with_backfill_waiting_patients_take_freed_slots_offered_to_them():
    inputs = _busy_inputs(backfill=True)
    result = simulate(inputs, 3)
    figures = replication_figures(result, inputs.world)
    assert 0 < result.filled_by_offer <= result.refilled <= result.freed
    assert figures[("fill_rate_by_offers", "network")] == result.filled_by_offer / result.freed


def test_without_backfill_no_slot_is_filled_by_an_offer():
    result = simulate(_busy_inputs(backfill=False), 3)
    assert result.freed > 0 and result.filled_by_offer == 0


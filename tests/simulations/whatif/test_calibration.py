"""The calibrated baseline: each trust's lists re-mixed to the demand it receives and scaled
by its capacity, trusts' targets ranked by load, and the reference calibration's spread of
6+ week shares as wide as the network's real one (a few per cent to about half)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from domain.network import load_reference_network
from domain.session_templates import session_templates
from simulations.whatif.calibration import (
    BEST_SHARE,
    WORST_SHARE,
    ranked_targets,
    trust_family_demand,
    trust_load,
    trust_shares_6_plus,
    with_capacity,
)
from simulations.whatif.engine import simulate
from simulations.whatif.reference_calibration import (
    REFERENCE_CAPACITY,
    REFERENCE_WARMUP_WEEKS,
    REFERENCE_WEEKS,
)
from simulations.whatif.scenario import parse_scenario
from simulations.whatif.scenario_inputs import compile_inputs
from simulations.whatif.start_state import reference_start_state
from simulations.whatif.world import FAMILIES

MONDAY = date(2027, 1, 4)


@pytest.fixture(scope="module")
def today():
    start = reference_start_state(load_reference_network(), session_templates(), MONDAY)
    return compile_inputs(start, parse_scenario("name: today"), baseline=True,
                          weeks=REFERENCE_WEEKS, warmup_weeks=REFERENCE_WARMUP_WEEKS)


def _trust_family_slots(inputs) -> np.ndarray:
    trust = inputs.world.site_trust[inputs.room_site]
    week = inputs.plans[inputs.plan_of_week[0]].sum(axis=1)  # [R, F]
    slots = np.zeros((len(inputs.world.trust_ids), len(FAMILIES)))
    np.add.at(slots, trust, week)
    return slots


def test_every_exam_a_trust_is_referred_gets_lists_there(today):
    demand = trust_family_demand(today)
    before = _trust_family_slots(today)
    after = _trust_family_slots(with_capacity(today, np.ones(len(today.world.trust_ids))))
    referred = demand >= 1.0
    assert (before[referred] == 0).any()  # the reference plan leaves some exams without lists
    assert (after[referred] > 0).all()


def test_a_trusts_capacity_scales_its_lists_and_no_other_trusts(today):
    trusts = len(today.world.trust_ids)
    even = _trust_family_slots(with_capacity(today, np.ones(trusts))).sum(axis=1)
    factor = np.ones(trusts)
    factor[3] = 1.25
    scaled = _trust_family_slots(with_capacity(today, factor)).sum(axis=1)
    assert scaled[3] == pytest.approx(1.25 * even[3], rel=0.01)
    assert np.delete(scaled, 3) == pytest.approx(np.delete(even, 3), rel=1e-9)


def test_the_most_loaded_trust_is_given_the_worst_target_and_the_least_the_best(today):
    load, targets = trust_load(today), ranked_targets(today)
    assert targets[np.argmax(load)] == pytest.approx(WORST_SHARE)
    assert targets[np.argmin(load)] == pytest.approx(BEST_SHARE)


def test_a_capacity_per_trust_must_be_given_for_every_trust(today):
    with pytest.raises(ValueError, match="capacity"):
        with_capacity(today, np.ones(3))


@pytest.mark.slow
def test_the_calibrated_reference_baseline_spreads_as_widely_as_the_real_network(today):
    """Another seed than the calibration's: a few per cent at the best trust, about half at
    the worst (DM01's range across the network's trusts)."""
    result = simulate(with_capacity(today, REFERENCE_CAPACITY), seed=11)
    shares = trust_shares_6_plus(result)
    assert shares.min() <= 0.10
    assert 0.40 <= shares.max() <= 0.60
    assert shares.max() - shares.min() >= 0.35


def test_a_capacity_by_trust_missing_a_trust_is_refused_naming_it(today):
    capacity = {t: 1.0 for t in today.world.trust_ids if t != "SWB"}
    with pytest.raises(ValueError, match="capacity: no factor for trust SWB"):
        with_capacity(today, capacity)

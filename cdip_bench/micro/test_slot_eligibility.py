"""Slot eligibility: one request judged against a week of the whole network's slots by the
vectorised engine (the work inside every search, without the database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from cdip_bench.eligibility import FIRST_DAY, random_request
from cdip_bench.synthetic_slots import SyntheticDiary, synthetic_diary
from domain.network import load_reference_network
from slot_rules.loading import shipped_slot_eligibility
from slot_rules.slot_request import SlotRequest

NOW = datetime.combine(FIRST_DAY - timedelta(days=1), datetime.min.time(), tzinfo=UTC)


@pytest.fixture(scope="module")
def week_of_slots() -> SyntheticDiary:
    return synthetic_diary(load_reference_network(), FIRST_DAY, weeks=1, seed=7)


@pytest.fixture(scope="module")
def request_for_an_adult() -> SlotRequest:
    network = load_reference_network()
    return random_request(network, np.random.default_rng(7), NOW.date())


def test_eligibility_of_one_request_over_a_week_of_network_slots(benchmark, week_of_slots,
                                                                 request_for_an_adult):
    ruleset = shipped_slot_eligibility()

    result = benchmark(ruleset.evaluate, week_of_slots.slots, week_of_slots.sites,
                       request_for_an_adult, NOW)

    assert len(result.mask) == len(week_of_slots.slots) > 200_000
    assert 0 < np.count_nonzero(result.mask) < len(result.mask)

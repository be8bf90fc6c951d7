"""Scenarios: a malformed one is refused naming the key before anything runs; a valid one
changes the diaries and demand it says it changes, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from simulations.whatif.scenario import ScenarioError, check_against, parse_scenario
from simulations.whatif.scenario_inputs import compile_inputs
from tests.simulations.whatif.small_network import MONDAY, ROOMS, SITE, small_start


@pytest.mark.parametrize(("text", "key"), [
    ("changes: []", "name"),
    ("name: x\npolicies: {booking: everywhere}", "policies.booking"),
    ("name: x\npolicies: {backfill: perhaps}", "policies.backfill"),
    ("name: x\nchanges:\n - close: {}", "changes[0].close"),
    ("name: x\nchanges:\n - close: {site: A, from: 2027-02-01, to: 2027-01-01}",
     "changes[0].close"),
    ("name: x\nchanges:\n - add_scanner: {site: A, modality: PET}",
     "changes[0].add_scanner.modality"),
    ("name: x\nchanges:\n - add_scanner: {modality: MR}", "changes[0].add_scanner.site"),
    ("name: x\nchanges:\n - extend_hours: {site: A}", "changes[0].extend_hours"),
    ("name: x\nchanges:\n - demand: {percent: ten}", "changes[0].demand.percent"),
    ("name: x\nchanges:\n - demand: {percent: -100}", "changes[0].demand.percent"),
    ("name: x\nchanges:\n - staff_short: {site: A, share: 1.5}",
     "changes[0].staff_short.share"),
    ("name: x\nchanges:\n - teleport: {site: A}", "changes[0].teleport"),
    ("name: x\nchanges:\n - {close: {site: A}, demand: {percent: 5}}", "changes[0]"),
    ("name: x\nweeks: 3", "weeks"),
])
def test_a_malformed_scenario_is_refused_naming_the_key(text, key):
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(text)
    assert any(problem.startswith(f"{key}:") for problem in refused.value.problems)


@pytest.mark.parametrize(("change", "key"), [
    ("close: {site: NOWHERE}", "changes[0].close.site"),
    ("close: {rooms: [NO-ROOM]}", "changes[0].close.rooms"),
    ("demand: {percent: 5, ics: NO-ICS}", "changes[0].demand.ics"),
    ("close: {site: UHB-QE, to: 2020-01-01}", "changes[0].close.to"),
])
def test_names_the_network_does_not_have_are_refused(change, key):
    scenario = parse_scenario(f"name: x\nchanges:\n - {change}")
    with pytest.raises(ScenarioError) as refused:
        check_against(scenario, small_start(100).network, MONDAY)
    assert refused.value.problems[0].startswith(f"{key}:")


def _inputs(changes: str, weeks: int = 4):
    scenario = parse_scenario(f"name: x\nchanges:\n{changes}")
    return compile_inputs(small_start(100), scenario, baseline=False, weeks=weeks,
                          warmup_weeks=0)


def test_an_added_scanner_runs_lists_from_its_first_day():
    inputs = _inputs(f" - add_scanner: {{site: {SITE}, modality: MR, from: 2027-01-11}}")
    assert inputs.week_slots(1).sum() == 1.5 * inputs.week_slots(0).sum()


def test_a_closed_room_has_no_slots_on_its_closed_days_only():
    inputs = _inputs(f" - close: {{rooms: [{ROOMS[0]}], from: 2027-01-05, to: 2027-01-06}}")
    week = inputs.week_slots(0)
    assert week[0, 1:3].sum() == 0 and week[0, 0].sum() > 0 and week[0, 3].sum() > 0
    assert inputs.week_slots(1)[0].sum() == week[1].sum()


def test_saturday_lists_repeat_the_monday_lists():
    inputs = _inputs(f" - extend_hours: {{site: {SITE}, saturdays: true}}")
    assert np.array_equal(inputs.week_slots(0)[:, 5], inputs.week_slots(0)[:, 0])


def test_demand_rises_only_in_the_weeks_and_modality_named():
    inputs = _inputs(" - demand: {percent: 10, modality: MR, from: 2027-01-18}")
    assert inputs.rate_multiplier[1].max() == 1.0
    assert np.allclose(inputs.rate_multiplier[2], 1.1)
    other = _inputs(" - demand: {percent: 10, modality: CT}")
    assert other.rate_multiplier.max() == 1.0


def test_the_baseline_ignores_the_changes():
    scenario = parse_scenario(f"name: x\nchanges:\n - close: {{site: {SITE}}}")
    baseline = compile_inputs(small_start(100), scenario, baseline=True, weeks=2,
                              warmup_weeks=0)
    assert baseline.closures == () and baseline.week_slots(0).sum() > 0

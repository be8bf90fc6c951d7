"""What a manager takes away: the CSV, the PNG plots and the HTML report of a run, every
page marked as a simulation; and the example scenarios in docs/ are valid."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from domain.network import load_reference_network
from simulations.whatif.experiment import RunPlan, run_experiment
from simulations.whatif.report import SIMULATION_NOTICE, write_report
from simulations.whatif.scenario import check_against, parse_scenario
from tests.simulations.whatif.small_network import small_start

DOCS = Path(__file__).parents[3] / "docs" / "scenarios"


def test_a_run_writes_csv_plots_and_an_html_report_marked_as_a_simulation(tmp_path):
    scenario = parse_scenario("name: busier\nchanges:\n - demand: {percent: 20}\n")
    experiment = run_experiment(small_start(120), scenario,
                                RunPlan(weeks=6, replications=2, warmup_weeks=2, seed=3))
    paths = write_report(experiment, tmp_path)
    names = {p.name for p in paths}
    assert {"figures.csv", "dm01_bands.csv", "weekly.csv", "report.html"} <= names
    assert sum(p.suffix == ".png" and p.stat().st_size > 1000 for p in paths) == 3
    figures = pd.read_csv(tmp_path / "figures.csv")
    attended = figures[(figures.measure == "attended") & (figures.group == "network")].iloc[0]
    assert attended.scenario_mean > attended.baseline_mean
    assert SIMULATION_NOTICE in (tmp_path / "report.html").read_text()


@pytest.mark.parametrize("path", sorted(DOCS.glob("*.yaml")), ids=lambda p: p.name)
def test_the_example_scenarios_are_valid(path):
    scenario = parse_scenario(path.read_text())
    check_against(scenario, load_reference_network(), date(2027, 1, 4))

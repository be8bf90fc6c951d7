"""`cdip simulate`: a malformed scenario is refused before anything runs, exit 2, every
problem named by its key; a small run from the reference network writes its report."""

from __future__ import annotations

from typer.testing import CliRunner

from cdip_cli.main import app

runner = CliRunner()


def test_a_malformed_scenario_is_refused_naming_each_key(tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: bad\npolicies: {booking: anywhere}\nchanges:\n"
                        " - demand: {percent: 900}\n")
    result = runner.invoke(app, ["simulate", str(scenario), "--reference", "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "policies.booking" in result.output and "changes[0].demand.percent" in result.output
    assert not (tmp_path / "out").exists()


def test_bench_simulate_refuses_an_option_out_of_range():
    result = runner.invoke(app, ["bench", "simulate", "--json", "--weeks", "0"])
    assert result.exit_code == 2
    assert "--weeks" in result.output


def test_bench_simulate_calibration_refuses_other_weeks_for_the_kept_calibration():
    result = runner.invoke(app, ["bench", "simulate-calibration", "--json",
                                 "--no-recalibrate", "--weeks", "30"])
    assert result.exit_code != 0
    assert "--no-recalibrate uses the kept calibration: --weeks 26" in result.output

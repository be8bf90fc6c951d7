"""`cdip bench ...` from the command line: figures as JSON."""

import json

from typer.testing import CliRunner

from cdip_cli.main import app

runner = CliRunner()


def test_bench_eligibility_prints_its_figures_as_json():
    result = runner.invoke(app, ["bench", "eligibility", "--json", "--requests", "3",
                                 "--weeks", "1", "--baseline-slots", "300",
                                 "--baseline-requests", "2"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["slots_considered"] > 100_000
    assert figures["requests"] == 3
    assert figures["baseline_agrees_on_sample"] is True
    assert {"p50_ms", "p95_ms", "speedup_vs_baseline_p50"} <= set(figures)


def test_an_option_out_of_range_is_refused_naming_it():
    result = runner.invoke(app, ["bench", "interop", "--weeks", "1"])

    assert result.exit_code == 2
    assert "--weeks: at least 2" in result.output

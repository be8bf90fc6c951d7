"""`cdip bench plan` on a small world: the figures it reports and the options it refuses."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from cdip_bench.plan import PlanBenchmarkError, plan_benchmark
from cdip_cli.main import app
from tests.forecasting.history_fixture import FixtureSpec, write_history

SMALL = {"ics": "STW", "scale": 0.05, "history_weeks": 58, "time_limit": 0.5}


@pytest.fixture(scope="module")
def figures() -> dict:
    return plan_benchmark(seed=3, **SMALL)


@pytest.mark.slow
def test_every_plan_is_replayed_against_the_same_requests(figures) -> None:
    total = figures["waiting_at_cutoff"] + figures["arrivals"]
    for name in ("forecast", "forecast_upper", "naive", "oracle"):
        assert 0 <= figures[f"breaches_{name}"] <= figures[f"unmet_{name}"] <= total
        assert sum(figures[f"unmet_by_modality_{name}"].values()) == figures[f"unmet_{name}"]
        assert figures[f"unmet_urgent_{name}"] <= figures[f"unmet_{name}"]
    assert figures["weeks"] == 6 and figures["arrivals"] > 0


@pytest.mark.slow
def test_regret_is_the_forecast_plan_s_extra_unmet_over_the_oracle_s(figures) -> None:
    oracle = figures["unmet_oracle"]
    if oracle:
        assert figures["regret"] == pytest.approx((figures["unmet_forecast"] - oracle) / oracle,
                                                  abs=1e-4)
        assert figures["regret_naive"] == pytest.approx(
            (figures["unmet_naive"] - oracle) / oracle, abs=1e-4)
    else:
        assert figures["regret"] is None


@pytest.mark.parametrize(("options", "message"), [
    ({"ics": "NOWHERE"}, "--ics: no integrated care system 'NOWHERE'"),
    ({"history_weeks": 30}, "--history-weeks: 30 leaves under a year"),
])
def test_bad_options_are_refused_by_name(options, message) -> None:
    with pytest.raises(PlanBenchmarkError, match=message):
        plan_benchmark(**{**SMALL, **options})


def test_a_history_without_its_truth_cannot_have_an_oracle(tmp_path) -> None:
    folder = write_history(tmp_path / "export", FixtureSpec(weeks=60, areas=3))
    shutil.rmtree(folder / "truth")
    with pytest.raises(PlanBenchmarkError, match=r"--history .*: no truth/ folder"):
        plan_benchmark(history=str(folder), ics="BSOL", time_limit=0.5)


def test_the_command_is_registered_with_its_options() -> None:
    result = CliRunner().invoke(app, ["bench", "plan", "--help"])
    assert result.exit_code == 0
    for option in ("--history", "--seed", "--ics", "--time-limit", "--json"):
        assert option in result.output

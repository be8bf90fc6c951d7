import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cdip_cli.main import app

runner = CliRunner()


def _broken_copy(source: Path, target: Path, file: str, column: str, row: int,
                 value: str | None) -> Path:
    """Copy the history and set one cell (row counts the header as 1); None drops the column."""
    shutil.copytree(source, target)
    lines = (target / file).read_text().splitlines()
    header = lines[0].split(",")
    index = header.index(column)
    cells = [line.split(",") for line in lines]
    if value is None:
        cells = [c[:index] + c[index + 1:] for c in cells]
    else:
        cells[row - 1][index] = value
    (target / file).write_text("\n".join(",".join(c) for c in cells) + "\n")
    return target


BROKEN = [
    ("requests.csv", "received_date", 7, "2024-13-01"),
    ("requests.csv", "exam_family", 12, "XR_TEETH"),
    ("appointments.csv", "outcome", 5, "maybe"),
    ("appointments.csv", "sms_reminder", 9, "perhaps"),
    ("appointments.csv", "lead_time_days", 3, "-2"),
    ("patients.csv", "imd_decile", 4, "11"),
    ("appointments.csv", "booking_channel", 1, None),
]


COMMANDS = (["forecast", "backtest"], ["dna", "evaluate"])


@pytest.mark.parametrize(("file", "column", "row", "value", "command"),
                         [(*case, COMMANDS[n % 2]) for n, case in enumerate(BROKEN)]
                         + [(*BROKEN[0], COMMANDS[1])])
def test_a_malformed_history_is_rejected_naming_file_column_and_row(
        tmp_path, history_dir, command, file, column, row, value):
    broken = _broken_copy(history_dir, tmp_path / "h", file, column, row, value)
    result = runner.invoke(app, [*command, "--history", str(broken), "--json"])
    assert result.exit_code == 2
    assert file in result.output and column in result.output
    assert f"row {row}" in result.output


def test_forecast_backtest_prints_figures_per_model_and_the_oracle(history_dir, tmp_path):
    result = runner.invoke(app, ["forecast", "backtest", "--history", str(history_dir),
                                 "--json", "--models", "seasonal_naive,ets", "--origins", "2",
                                 "--plots", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for model in ("seasonal_naive", "ets"):
        assert set(report["models"][model]) >= {"mase", "wape", "bias", "coverage80"}
    assert report["oracle_mase"] > 0
    assert (tmp_path / "forecast_ets.png").stat().st_size > 1000


def test_dna_evaluate_prints_figures_saves_models_and_plots(history_dir, tmp_path):
    result = runner.invoke(app, ["dna", "evaluate", "--history", str(history_dir), "--json",
                                 "--max-rows", "5000", "--plots", str(tmp_path / "plots"),
                                 "--save", str(tmp_path / "models")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) >= {"auc", "calibration_slope", "brier", "top_decile_capture",
                           "oracle_auc", "oracle_brier"}
    assert (tmp_path / "plots" / "lift.png").exists()
    assert (tmp_path / "plots" / "calibration.png").exists()
    saved = json.loads((tmp_path / "models" / "dna_logistic.json").read_text())
    assert saved["training_rows"] == 5000 and "metrics" in saved
    assert saved["training_window"][0] < saved["training_window"][1] == report["cutoff"]


def test_forecast_demand_writes_area_system_and_site_tables(history_dir, tmp_path):
    for level in ("area", "site"):
        out = tmp_path / f"{level}.csv"
        result = runner.invoke(app, ["forecast", "demand", "--history", str(history_dir),
                                     "--out", str(out), "--horizon", "3", "--level", level])
        assert result.exit_code == 0, result.output
        assert "lo80" in out.read_text().splitlines()[0]

"""`cdip forecast ...` and `cdip dna ...`: demand forecasts and DNA risk from a history folder,
and their honest backtests. Progress goes to stderr so `--json` output stays parseable."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from threadpoolctl import threadpool_limits

from domain.data_files import DataFileError
from domain.history import History, read_history
from domain.network import load_network, load_reference_network
from forecasting.demand import (
    DEFAULT_MODEL,
    MAX_HORIZON,
    MODEL_NAMES,
    UnknownModelError,
    forecast_demand,
)
from forecasting.demand_backtest import backtest_history
from forecasting.dna_evaluation import MAX_TRAINING_ROWS, TooFewOutcomesError, evaluate_dna
from forecasting.dna_features import AT_BOOKING, ON_THE_EVE
from forecasting.hierarchy import by_site, by_system, site_shares
from forecasting.weekly_series import HistoryTooShortError

app = typer.Typer(help="Weekly demand forecasts per exam family and area.", no_args_is_help=True)
dna_app = typer.Typer(help="DNA (did not attend) risk per appointment.", no_args_is_help=True)
_stderr = Console(stderr=True)

HistoryOption = Annotated[Path, typer.Option(
    "--history", help="History folder: patients.csv, requests.csv, appointments.csv and "
                      "optionally truth/ (see docs/history-schema.md).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print only a JSON object.")]
PlotsOption = Annotated[Path | None, typer.Option("--plots", help="Folder to save PNG plots in.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of every random choice.")]
ThreadsOption = Annotated[int, typer.Option(
    "--threads", min=1, help="Threads for model fitting. One by default: on a shared two-core "
                             "machine OpenMP's spinning threads slow gradient boosting down "
                             "several-fold whenever another process holds a core.")]


@app.callback()
def forecast() -> None:
    """Weekly demand forecasts per exam family and area."""


@dna_app.callback()
def dna() -> None:
    """DNA (did not attend) risk per appointment."""


@app.command("backtest")
def backtest(
    history_dir: HistoryOption, as_json: JsonOption = False, plots: PlotsOption = None,
    models: Annotated[str, typer.Option(help="Comma-separated models.")] = ",".join(MODEL_NAMES),
    horizon: Annotated[int, typer.Option(min=1, max=MAX_HORIZON)] = MAX_HORIZON,
    origins: Annotated[int, typer.Option(min=1, help="Number of forecast origins.")] = 6,
    step: Annotated[int, typer.Option(min=1, help="Weeks between origins.")] = 4,
    seed: SeedOption = 0, threads: ThreadsOption = 1,
) -> None:
    """Rolling-origin backtest: refit every model at each origin, forecast 1..horizon weeks,
    report MASE, WAPE, bias and interval coverage per model (and the oracle's with truth/)."""
    names = [name.strip() for name in models.split(",") if name.strip()]
    with _failures_explained():
        history = _read(history_dir)
        with _progress("backtest") as say, threadpool_limits(threads):
            panel, result = backtest_history(history, names, horizon, origins, step, seed, say)
    report = {"series": panel.n_series, "weeks": panel.n_weeks, "horizon": horizon,
              "origins": [str(panel.weeks[o].date()) for o in result.origins],
              "models": result.models, "notes": list(result.notes)}
    fitted = {k: v for k, v in result.models.items() if k != "oracle"}
    best = min(fitted, key=lambda name: fitted[name]["mase"])
    report["best"] = best
    if "oracle" in result.models:
        report["oracle_mase"] = result.models["oracle"]["mase"]
    if plots is not None:
        from forecasting.plots import plot_forecast  # matplotlib: import on use

        report["plots"] = [str(plot_forecast(panel, result.origins[-1], forecast,
                                             plots / f"forecast_{name}.png"))
                           for name, forecast in result.last_forecasts.items()]
    _emit(report, as_json)


@app.command("demand")
def demand(
    history_dir: HistoryOption,
    out: Annotated[Path, typer.Option(help="CSV file to write the forecast to.")],
    model: Annotated[str, typer.Option(
        help="seasonal_naive, ets, ets_shares or boosting.")] = DEFAULT_MODEL,
    horizon: Annotated[int, typer.Option(min=1, max=MAX_HORIZON)] = MAX_HORIZON,
    level: Annotated[str, typer.Option(help="area, system (ICS and network) or site.")] = "area",
    network_dir: Annotated[Path | None, typer.Option(
        "--network", help="Network folder for --level system (default: the reference).")] = None,
    seed: SeedOption = 0, threads: ThreadsOption = 1,
) -> None:
    """Forecast the weeks after the history, with 80 % and 95 % intervals, and write a CSV."""
    with _failures_explained():
        history = _read(history_dir)
        with threadpool_limits(threads):
            result = forecast_demand(history.requests, horizon, model, seed)
        if level == "area":
            table = result.table
        elif level == "system":
            network = load_network(network_dir) if network_dir else load_reference_network()
            table = by_system(result, {a.area_id: a.ics_id for a in network.demand_areas})
        elif level == "site":
            table = by_site(result, site_shares(history.requests, history.appointments))
        else:
            raise typer.BadParameter(f"--level must be area, system or site, not '{level}'")
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    for note in result.notes:
        _stderr.print(f"note: {note}", markup=False)
    _stderr.print(f"{len(table):,} rows written to {out}", markup=False)


@dna_app.command("evaluate")
def evaluate(
    history_dir: HistoryOption, as_json: JsonOption = False, plots: PlotsOption = None,
    save: Annotated[Path | None, typer.Option(
        help="Folder to save the fitted models in (joblib, with a JSON of metadata).")] = None,
    max_rows: Annotated[int, typer.Option(
        min=1000, help="Fit on at most this many appointments (a seeded sample).")
    ] = MAX_TRAINING_ROWS,
    as_of: Annotated[str, typer.Option(
        "--as-of", help="What a patient's record may hold: 'booking' (appointments that started "
                        "before the booking day) or 'eve' (before the appointment's own day, "
                        "as a reminder or backfill decision the day before would know).")
    ] = AT_BOOKING,
    seed: SeedOption = 0, threads: ThreadsOption = 1,
) -> None:
    """Split by time: fit logistic regression and gradient boosting on appointments that
    started before the cut-off, score those booked after it (AUC, calibration, Brier, share of
    DNAs in the riskiest 10 %), with the true probabilities' figures when truth/ exists."""
    if as_of not in (AT_BOOKING, ON_THE_EVE):
        raise typer.BadParameter(f"--as-of must be {AT_BOOKING} or {ON_THE_EVE}, not '{as_of}'")
    with _failures_explained():
        history = _read(history_dir)
        with _progress("dna") as say, threadpool_limits(threads):
            evaluation = evaluate_dna(history, seed, max_rows, say, as_of)
    best = evaluation.models[evaluation.best]
    report = {"best": evaluation.best, **{k: best[k] for k in (
        "auc", "calibration_slope", "calibration_intercept", "brier", "top_decile_capture")},
        "as_of": as_of, "training_from": str(evaluation.training_from.date()),
        "cutoff": str(evaluation.cutoff.date()),
        "training_rows": evaluation.training_rows,
        "training_available": evaluation.training_available, "models": evaluation.models}
    if evaluation.oracle is not None:
        report["oracle_auc"] = evaluation.oracle["auc"]
        report["oracle_brier"] = evaluation.oracle["brier"]
        report["oracle"] = evaluation.oracle
    if plots is not None:
        from forecasting.plots import plot_calibration, plot_lift  # matplotlib: import on use

        outcome, probability = evaluation.test_outcome, evaluation.test_probability
        report["plots"] = [str(plot_calibration(outcome, probability, plots / "calibration.png")),
                           str(plot_lift(outcome, probability, plots / "lift.png"))]
    if save is not None:
        from forecasting.dna_model import save_model

        report["saved"] = [str(save_model(fitted, save, {
            "history": str(history_dir),
            "training_window": [str(evaluation.training_from.date()),
                                str(evaluation.cutoff.date())],
            "training_rows": evaluation.training_rows, "seed": seed, "as_of": as_of,
            "metrics": evaluation.models[name]})) for name, fitted in evaluation.fitted.items()]
    _emit(report, as_json)


def _read(history_dir: Path) -> History:
    started = time.perf_counter()
    history = read_history(history_dir)
    _stderr.print(f"read {len(history.appointments):,} appointments and "
                  f"{len(history.requests):,} requests in {time.perf_counter() - started:.1f} s",
                  markup=False)
    return history


@contextmanager
def _failures_explained() -> Iterator[None]:
    """Bad input ends the command with its message (file, row, column) and exit code 2."""
    try:
        yield
    except (DataFileError, HistoryTooShortError, TooFewOutcomesError,
            UnknownModelError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error


@contextmanager
def _progress(label: str) -> Iterator[Callable[[str], None]]:
    started = time.perf_counter()
    with _stderr.status(label) as status:
        def say(message: str) -> None:
            status.update(f"{label}: {message} ({time.perf_counter() - started:.0f} s)")
        yield say
    _stderr.print(f"{label} took {time.perf_counter() - started:.1f} s", markup=False)


def _emit(report: dict, as_json: bool) -> None:
    """JSON for machines; for people, one table row per model (the oracle last) and the notes."""
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    rows = dict(report["models"])
    if "oracle" in report and "oracle" not in rows:
        rows["oracle"] = report["oracle"]
    columns = list(dict.fromkeys(key for figures in rows.values() for key in figures))
    table = Table("model", *columns)
    for name, figures in rows.items():
        label = f"{name} (best)" if name == report.get("best") else name
        table.add_row(label, *(_figure(figures.get(key)) for key in columns))
    console = Console()
    console.print(table)
    for note in report.get("notes", []):
        console.print(f"note: {note}", markup=False)
    for path in report.get("plots", []) + report.get("saved", []):
        console.print(f"wrote {path}", markup=False)


def _figure(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:,}" if isinstance(value, int) else f"{value:.4f}"

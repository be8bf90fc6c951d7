"""`cdip bench reports`: seconds to compute a month's figures and both national returns over a
synthetic history at full scale (104 weeks, ~10 M appointments).

Setup, not timed: generate the history (or read `--history`), write and read it back through
the history folder format, derive the reporting inputs, and give them the identifiers a trust's
export would carry and a history does not (synthetic NHS numbers with valid check digits,
source settings, referrers, report times 1-72 hours after each test) so the DID is built from
realistic records rather than from an exceptions list. Timed: `prepare` (checks and arrays)
plus the month's figures (`figures_seconds` includes `prepare_seconds`), then DM01 and DID from
the same prepared record. A baseline measured in the same run (sorting the event instants)
gives a machine-speed reference for comparing runs on noisy cores."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from domain.exams import exam_catalogue
from domain.history import History, read_history
from domain.network import load_network
from reporting.did import did_return
from reporting.dm01 import dm01_return
from reporting.figures import month_figures
from reporting.from_history import inputs_from_history
from reporting.inputs import ReportInputs
from reporting.london import Month
from reporting.record import prepare
from simulations.synthetic_history import HistorySettings, generate_history, write_history


def reports_benchmark(weeks: int = 104, scale: float = 1.0, seed: int = 1, month: str = "",
                      history: str = "", repeats: int = 1) -> dict[str, object]:
    """Seconds for a month's figures, DM01 and DID over a synthetic history; with `repeats`
    the timed part runs that many times on the same inputs and the medians are reported."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    began = time.perf_counter()
    network = load_network()
    with tempfile.TemporaryDirectory(prefix="cdip-bench-reports-") as scratch:
        folder = Path(history) if history else Path(scratch)
        if not history:
            settings = HistorySettings(weeks=weeks, seed=seed, scale=scale)
            write_history(generate_history(network, list(exam_catalogue().values()), settings),
                          folder)
        loaded = read_history(folder)
    period = Month.parse(month) if month else last_full_month(loaded)
    inputs = inputs_from_history(loaded, network)
    facts = _SyntheticFacts.of(loaded)
    del loaded  # the history frames are not needed any more: free them before the timing
    inputs = with_synthetic_identifiers(inputs, facts)
    setup = time.perf_counter() - began
    runs = [_timed_run(inputs, period) for _ in range(repeats)]
    figures = {key: round(float(np.median([run[key] for run in runs])), 2)
               for key in runs[0] if key.endswith("_seconds")}
    figures["total_over_baseline"] = round(float(np.median(
        [run["total_seconds"] / run["baseline_sort_events_seconds"] for run in runs])), 1)
    last = runs[-1]
    return {
        "appointments": len(inputs.appointments),
        "requests": len(inputs.requests),
        "request_events": len(inputs.request_events),
        "month": period.label,
        "repeats": repeats,
        **figures,
        "total_seconds_each": [round(run["total_seconds"], 2) for run in runs],
        **{key: last[key] for key in ("figure_rows", "dm01_rows", "did_rows", "did_exceptions")},
        "setup_seconds": round(setup, 1),
    }


def _timed_run(inputs: ReportInputs, period: Month) -> dict[str, float]:
    started = time.perf_counter()
    record = prepare(inputs)
    prepared = time.perf_counter()
    figures = month_figures(record, period)
    figured = time.perf_counter()
    dm01 = dm01_return(record, period)
    dm01_done = time.perf_counter()
    did = did_return(record, period)
    did_done = time.perf_counter()
    return {
        "prepare_seconds": prepared - started,
        "figures_seconds": figured - started,
        "dm01_seconds": dm01_done - figured,
        "did_seconds": did_done - dm01_done,
        "total_seconds": did_done - started,
        "baseline_sort_events_seconds": _baseline(record.events.at),
        "figure_rows": sum(len(t) for t in figures.tables().values()),
        "dm01_rows": len(dm01.rows),
        "did_rows": len(did.rows),
        "did_exceptions": len(did.exceptions),
    }


def last_full_month(history: History) -> Month:
    """The last calendar month wholly inside the history."""
    if history.truth is not None and "end" in history.truth.meta:
        end = pd.Timestamp(history.truth.meta["end"]).date()
    else:
        end = pd.Timestamp(history.appointments.start.max()).date() + timedelta(days=1)
    last = end - timedelta(days=1)
    month = Month(last.year, last.month)
    if month.next().first_day != end:
        previous = month.first_day - timedelta(days=1)
        month = Month(previous.year, previous.month)
    return month


@dataclass(frozen=True)
class _SyntheticFacts:
    """The few history columns the synthetic identifiers are made from."""

    birth_year: np.ndarray
    area_id: np.ndarray
    plain_xray: np.ndarray

    @classmethod
    def of(cls, history: History) -> _SyntheticFacts:
        return cls(birth_year=history.patients.birth_year.to_numpy(),
                   area_id=history.patients.area_id.astype(str).to_numpy(),
                   plain_xray=history.requests.exam_family.to_numpy() == "XR_PLAIN")


def with_synthetic_identifiers(inputs: ReportInputs, facts: _SyntheticFacts) -> ReportInputs:
    """Benchmark data only: identifiers and report times a trust's export would carry."""
    p, r = inputs.patients.copy(), inputs.requests.copy()
    number = p.patient_id.to_numpy()
    p["nhs_number"] = _nhs_numbers(600_000_000 + 2 * number)
    p["nhs_number_status"] = pd.Series("01", index=p.index, dtype="str")
    p["birth_date"] = (facts.birth_year - 1970).astype("datetime64[Y]").astype(
        "datetime64[s]") + np.timedelta64(181 * 86_400, "s")  # 1 July (2 July in leap years)
    p["ethnic_category"] = pd.Series(np.array(list("ABCDEFGHJKLMNPRSZ"))[number % 17],
                                     dtype="str")
    p["postcode"] = pd.Series(np.char.add(facts.area_id.astype(str), " 1AA"), dtype="str")
    p["gp_practice_code"] = pd.Series([f"M85{n:03d}" for n in range(1000)], dtype="str").to_numpy(
    )[number % 1000]
    request = r.request_id.to_numpy()
    source = np.where(facts.plain_xray, np.where(request % 5 == 0, "05", "04"),
                      np.where(request % 5 < 2, "03", "04"))
    r["source_setting"] = pd.Categorical(source)
    r["referrer_code"] = pd.Series([f"G{n:07d}" for n in range(5000)], dtype="str").to_numpy()[
        request % 5000]
    r["referring_org_code"] = p.gp_practice_code.to_numpy()[r.patient_id.to_numpy()]
    return replace(inputs, patients=p, requests=r,
                   request_events=_with_reports(inputs.request_events, inputs.appointments))


def _nhs_numbers(bodies: np.ndarray) -> pd.Series:
    """Ten-digit NHS numbers for nine-digit bodies (body + 1 when the check digit would be 10;
    bodies are even, so +1 never meets another's; blank when neither works)."""
    out = np.full(len(bodies), None, dtype=object)
    for shift in (0, 1):
        text = np.char.zfill((bodies + shift).astype(str), 9)
        check = 11 - (_digits(text) @ np.arange(10, 1, -1)) % 11
        check = np.where(check == 11, 0, check)
        fine = (check != 10) & pd.isna(out)
        out[fine] = np.char.add(text[fine], check[fine].astype(str))
    return pd.Series(out, dtype="str")


def _digits(text: np.ndarray) -> np.ndarray:
    return (np.frombuffer("".join(text).encode("ascii"), np.uint8).reshape(-1, 9)
            - ord("0")).astype(np.int64)


def _with_reports(events: pd.DataFrame, appointments: pd.DataFrame) -> pd.DataFrame:
    """A reported event 1-72 hours after each attended appointment's start."""
    attended = (appointments.state == "attended").to_numpy()
    request = appointments.request_id.to_numpy()[attended]
    hours = 1 + request * 7919 % 72
    reported_at = _ns(appointments.start_at)[attended] + hours * 3_600_000_000_000
    categories = [*events.to_state.cat.categories, "reported"]
    all_request = np.concatenate([events.request_id.to_numpy(), request])
    all_at = np.concatenate([_ns(events["at"]), reported_at])
    state = np.concatenate([events.to_state.cat.set_categories(categories).cat.codes.to_numpy(),
                            np.full(len(request), categories.index("reported"), np.int8)])
    order = np.lexsort((all_at, all_request))
    return pd.DataFrame({
        "request_id": all_request[order],
        "at": pd.DatetimeIndex(all_at[order].astype("datetime64[ns]")).tz_localize("UTC"),
        "from_state": pd.Categorical.from_codes(np.full(len(order), -1, np.int8), categories),
        "to_state": pd.Categorical.from_codes(state[order], categories),
    }, copy=False)


def _ns(instants: pd.Series) -> np.ndarray:
    return instants.dt.tz_convert("UTC").dt.as_unit("ns").array.asi8


def _baseline(instants: np.ndarray) -> float:
    """Seconds to sort a copy of the event instants: a reference for this machine, now."""
    began = time.perf_counter()
    np.sort(instants.copy(), kind="stable")
    return time.perf_counter() - began

"""`cdip bench plan`: the whole loop, not only the solver. A synthetic history of one
integrated care system (or a history folder with its truth) is cut six weeks before its end;
diaries for those six weeks are built from (a) the demand forecast, (b) seasonal naive, (c) the
truth's expected demand (the oracle), and (d) the forecast with urgent and two-week-wait demand
planned to the upper end of its 80 % interval, each plus the waiting list on the cut-off day;
then the requests that really came are replayed against each plan
(`simulations.planning_world`, `simulations.plan_replay`; docs/planning-from-forecasts.md)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd

from domain.exams import load_exam_catalogue
from domain.history import History, read_history
from domain.network import Network, load_reference_network
from domain.session_templates import session_templates
from domain.vocabulary import Modality, Priority
from forecasting.demand import (
    DEFAULT_MODEL,
    FORECAST_COLUMNS,
    DemandForecast,
    forecast_demand,
)
from forecasting.diary_demand import demand_mix, diary_demand
from optimiser import DemandRow, DiaryProblem, build_diary
from simulations.plan_replay import ReplayResult, replay, weekly_capacity
from simulations.planning_world import PlanningWorld, cut_history
from simulations.synthetic_history import HistorySettings, generate_history, write_history

PLANNED_WEEKS = 6
TRAVEL_LIMIT_KM = 50.0
URGENT_TO_UPPER = {Priority.TWO_WEEK_WAIT: "hi80", Priority.URGENT: "hi80"}
"""The forecast's intervals where they pay: capacity for the most urgent planned to the upper
end of the 80 % interval, so that a high week does not push them past their two weeks."""
NETWORK_MIP = True
"""Each week's build runs HiGHS on the system's whole network model. A system is about a tenth
of the network, and there the MIP settles a week within a few seconds (BSOL, seed 1, first
week: 0.68 % above the bound at 10 s and at 30 s, the same plan run after run). Left to the
build's own rule (no MIP under 20 s), two six-week runs of the same demand differed by up to
5 % of unmet, more than the sources of demand do; with it, by 0 to 0.5 % (median 0.1 %)."""


class PlanBenchmarkError(ValueError):
    """Options or a history the benchmark cannot run on; the message names the option."""


@dataclass(frozen=True)
class PlannedRun:
    replay: ReplayResult
    offpeak_sessions: int
    room_sessions: int


def plan_benchmark(seed: int = 1, history: str | None = None, ics: str = "BSOL",
                   scale: float = 1.0, history_weeks: int = 66, time_limit: float = 10.0,
                   model: str = DEFAULT_MODEL) -> dict:
    """Plan six weeks from forecasts, seasonal naive and the truth; replay what came."""
    started = time.perf_counter()
    network = ics_network(load_reference_network(), ics)
    past = _history(history, network, seed, scale, history_weeks)
    world = cut_history(past, PLANNED_WEEKS, network)
    if world.expected is None:
        raise PlanBenchmarkError(f"--history {history}: no truth/ folder, so no oracle plan")
    sources = _demand_sources(world, model, seed)
    mix = demand_mix(world.known, world.patients)
    runs = {name: _plan_and_replay(world, network, forecast, mix, upper, time_limit, seed)
            for name, (forecast, upper) in sources.items()}
    figures = _figures(world, runs)
    for name in ("forecast", "naive", "oracle"):
        figures[f"wape_{name}"] = _wape(sources[name][0], world)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


def ics_network(network: Network, ics_id: str) -> Network:
    """One integrated care system's trusts, sites, rooms, staff and demand areas."""
    if ics_id not in {i.ics_id for i in network.icss}:
        raise PlanBenchmarkError(f"--ics: no integrated care system '{ics_id}' (choose one of "
                                 f"{', '.join(sorted(i.ics_id for i in network.icss))})")
    trusts = {t.trust_id for t in network.trusts if t.ics_id == ics_id}
    sites = tuple(s for s in network.sites if s.trust_id in trusts)
    site_ids = {s.site_id for s in sites}
    return Network(tuple(i for i in network.icss if i.ics_id == ics_id),
                   tuple(t for t in network.trusts if t.trust_id in trusts), sites,
                   tuple(r for r in network.rooms if r.site_id in site_ids),
                   tuple(g for g in network.staff_groups if g.site_id in site_ids),
                   tuple(a for a in network.demand_areas if a.ics_id == ics_id))


def _history(folder: str | None, network: Network, seed: int, scale: float,
             weeks: int) -> History:
    """The history folder given, or a synthetic one of the system's areas at `scale` × the
    reference network's volume for them (written and read back as a trust's would be)."""
    if folder is not None:
        return read_history(folder)
    if weeks < 52 + PLANNED_WEEKS:
        raise PlanBenchmarkError(f"--history-weeks: {weeks} leaves under a year to fit on; "
                                 f"give at least {52 + PLANNED_WEEKS}")
    return synthetic_history(network, seed, scale * _population_share(network), weeks)


def synthetic_history(network: Network, seed: int, scale: float, weeks: int) -> History:
    """A synthetic history of the network's areas at `scale` × the reference volume, written
    and read back as a trust's export would be (so it passes the same validation)."""
    settings = HistorySettings(weeks=weeks, seed=seed, scale=scale)
    generated = generate_history(network, list(load_exam_catalogue().values()), settings)
    with tempfile.TemporaryDirectory() as directory:
        write_history(generated, Path(directory))
        return read_history(directory)


def _population_share(network: Network) -> float:
    every = load_reference_network().demand_areas
    return (sum(a.population_weight for a in network.demand_areas)
            / sum(a.population_weight for a in every))


def _demand_sources(world: PlanningWorld, model: str,
                    seed: int) -> dict[str, tuple[DemandForecast, Mapping | None]]:
    forecast = forecast_demand(world.known, PLANNED_WEEKS, model, seed)
    naive = forecast_demand(world.known, PLANNED_WEEKS, "seasonal_naive", seed)
    return {"forecast": (forecast, None), "forecast_upper": (forecast, URGENT_TO_UPPER),
            "naive": (naive, None), "oracle": (_oracle(world), None)}


def _oracle(world: PlanningWorld) -> DemandForecast:
    """The truth's expected demand in the shape of a forecast (no intervals)."""
    table = world.expected.rename(columns={"expected": "forecast"})
    for column in FORECAST_COLUMNS[4:-1]:
        table[column] = table["forecast"]
    table["sd"] = 0.0
    return DemandForecast("oracle", table[list(FORECAST_COLUMNS)], 0.0, 0.0, ())


def _plan_and_replay(world: PlanningWorld, network: Network, forecast: DemandForecast,
                     mix: pd.DataFrame, upper: Mapping | None, time_limit: float,
                     seed: int) -> PlannedRun:
    """Six weekly diaries from one source of demand (each built from the week before), then
    the requests that came replayed against them."""
    templates = session_templates()
    last, weeks, offpeak, sessions = (), [], 0, 0
    for monday in world.weeks:
        rows = diary_demand(forecast, mix, monday, world.waiting, world.cutoff, upper)
        problem = DiaryProblem(network, templates, monday,
                               tuple(DemandRow(r.family, r.area_id, r.priority,
                                               r.expected_count, r.age_band) for r in rows),
                               travel_limit_km=TRAVEL_LIMIT_KM, last_week=last)
        plan = build_diary(problem, time_limit_s=time_limit, seed=seed,
                           network_mip=NETWORK_MIP)
        weeks.append((monday, weekly_capacity(plan.sessions, templates)))
        offpeak += plan.metrics.offpeak_sessions
        sessions += plan.metrics.room_sessions
        last = plan.sessions
    result = replay(network, weeks, world.waiting + world.arrivals, TRAVEL_LIMIT_KM)
    return PlannedRun(result, offpeak, sessions)


def _figures(world: PlanningWorld, runs: dict[str, PlannedRun]) -> dict:
    oracle = runs["oracle"].replay
    figures = {
        "cutoff": world.cutoff.isoformat(), "weeks": len(world.weeks),
        "requests_known": len(world.known), "waiting_at_cutoff": len(world.waiting),
        "arrivals": len(world.arrivals),
    }
    for name, run in runs.items():
        figures[f"unmet_{name}"] = run.replay.unmet
        figures[f"breaches_{name}"] = run.replay.breaches
        figures[f"unmet_urgent_{name}"] = (run.replay.unmet_by_priority["two_week_wait"]
                                           + run.replay.unmet_by_priority["urgent"])
        figures[f"breaches_two_week_wait_{name}"] = run.replay.breaches_two_week_wait
        figures[f"offpeak_sessions_{name}"] = run.offpeak_sessions
        figures[f"mean_travel_km_{name}"] = round(run.replay.mean_travel_km, 3)
        figures[f"unmet_by_modality_{name}"] = {
            m.value: sum(n for f, n in run.replay.unmet_by_family.items() if f[:2] == m.value)
            for m in Modality}
    for name in ("forecast", "forecast_upper", "naive"):
        figures[f"regret{'' if name == 'forecast' else '_' + name}"] = _regret(
            runs[name].replay.unmet, oracle.unmet)
    return figures


def _wape(forecast: DemandForecast, world: PlanningWorld) -> float:
    """Weighted absolute error of the weekly family × area forecasts against what came:
    Σ |forecast − actual| / Σ actual over the weeks planned."""
    came = pd.DataFrame([(r.received - timedelta(days=r.received.weekday()), r.family.value,
                          r.area_id) for r in world.arrivals],
                        columns=["week_start", "exam_family", "area_id"])
    actual = came.value_counts().rename("actual").reset_index()
    both = forecast.table.merge(actual, on=["week_start", "exam_family", "area_id"],
                                how="outer").fillna({"forecast": 0.0, "actual": 0.0})
    return round(float((both["forecast"] - both["actual"]).abs().sum() / both["actual"].sum()),
                 4)


def _regret(unmet: int, oracle: int) -> float | None:
    """(unmet − oracle's) / oracle's; None when the oracle plan leaves nobody unmet."""
    return None if oracle == 0 else round((unmet - oracle) / oracle, 4)


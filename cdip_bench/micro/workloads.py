"""Small, seeded inputs for the micro-benchmarks: each is built once and timed many times."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from cdip_bench.diary import BENCH_TRAVEL_LIMIT_KM, BENCH_WEEK, DEMAND_LOAD
from domain.network import Network, load_reference_network
from domain.session_templates import session_templates
from forecasting.weekly_series import WeeklyPanel
from optimiser.demand_model import synthetic_weekly_demand
from optimiser.problem import DiaryProblem

WEEKS_PER_YEAR = 52.18


def first_sites(network: Network, count: int) -> Network:
    """The network cut down to its first `count` sites, their rooms and staff (every demand
    area kept: patients beyond the travel limit simply cannot be served)."""
    sites = network.sites[:count]
    kept = {site.site_id for site in sites}
    return replace(network, sites=sites,
                   rooms=tuple(r for r in network.rooms if r.site_id in kept),
                   staff_groups=tuple(g for g in network.staff_groups if g.site_id in kept))


def small_diary_problem(sites: int = 2, seed: int = 0) -> DiaryProblem:
    """The diary benchmark's week and demand load on the first `sites` sites of the reference
    network (two sites: 81 rooms, every modality solved to optimality in under a second)."""
    network = first_sites(load_reference_network(), sites)
    templates = session_templates()
    return DiaryProblem(
        network=network, templates=templates, week_start=BENCH_WEEK,
        demand=synthetic_weekly_demand(network, templates, BENCH_WEEK, seed, DEMAND_LOAD),
        travel_limit_km=BENCH_TRAVEL_LIMIT_KM)


def seasonal_panel(families: int = 4, areas: int = 6, weeks: int = 156,
                   seed: int = 0) -> WeeklyPanel:
    """Weekly Poisson counts per family × area, each series at its own level with a yearly
    swing of ±15 %: three years of history, the length a trust would forecast from."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(2.0, 200.0, families * areas)[:, None]
    swing = 1 + 0.15 * np.sin(2 * np.pi * np.arange(weeks) / WEEKS_PER_YEAR)[None, :]
    return WeeklyPanel(
        families=np.repeat([f"FAMILY_{n}" for n in range(families)], areas),
        areas=np.tile([f"AREA_{n}" for n in range(areas)], families),
        weeks=pd.date_range("2023-01-02", periods=weeks, freq="7D"),
        counts=rng.poisson(level * swing).astype(float))

"""The figures a manager reads, per replication and then across replications with 95 %
confidence intervals (t on the replication means; the scenario-minus-baseline difference is
paired, since replication i of both arms shares its seed). Waiting-list bands come from the
reporting engine's DM01 banding, the spread between trusts from its regional-variation
figures, so a simulated month reads like a real return."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from reporting.variation import spread_between_trusts
from reporting.waiting_list import DM01_TESTS, waiting_bands
from simulations.whatif.replication import ReplicationResult
from simulations.whatif.world import MODALITIES, World

GROUP_COLUMNS = ("measure", "group")


def census_frame(result: ReplicationResult, world: World) -> pd.DataFrame:
    """The end-of-run DM01 waiting list, one row per patient (trust, ics, test, weeks)."""
    trust, test, band = np.nonzero(result.census)
    counts = result.census[trust, test, band]
    trust, test, band = (np.repeat(a, counts) for a in (trust, test, band))
    return pd.DataFrame({
        "trust": np.array(world.trust_ids, dtype=object)[trust],
        "ics": np.array(world.ics_ids, dtype=object)[world.trust_ics[trust]],
        "test": np.array(DM01_TESTS, dtype=object)[test], "weeks_waited": band})


def dm01_bands(results: Sequence[ReplicationResult], world: World,
               by: Sequence[str]) -> pd.DataFrame:
    """Mean across replications of the reporting engine's DM01 band table."""
    tables = [waiting_bands(census_frame(r, world), by) for r in results]
    keys = list(by) or ["network"]
    return pd.concat(tables).groupby(keys).mean(numeric_only=True).reset_index()


def replication_figures(result: ReplicationResult, world: World) -> dict[tuple[str, str], float]:
    figures: dict[tuple[str, str], float] = {
        (measure, "network"): 0.0
        for measure in ("waiting_list", "share_6_plus_weeks", "share_13_plus_weeks")}
    census = census_frame(result, world)
    for by in ((), ("trust",), ("ics",), ("test",)):
        table = waiting_bands(census, by)
        for row in table.to_dict("records"):
            group = "network" if not by else f"{by[0]}:{row[by[0]]}"
            total = float(row["Total Waiting List"])
            figures[("waiting_list", group)] = total
            figures[("share_6_plus_weeks", group)] = _ratio(row["Waiting 6+ Weeks"], total)
            figures[("share_13_plus_weeks", group)] = _ratio(row["Waiting 13+ Weeks"], total)
    by_trust = pd.Series({g.split(":", 1)[1]: v for (m, g), v in figures.items()
                          if m == "share_6_plus_weeks" and g.startswith("trust:")})
    spread = spread_between_trusts({"share_6_plus_weeks": by_trust}).iloc[0]
    figures[("trust_spread_6_plus_range", "network")] = float(spread.get("range", np.nan))
    figures[("trust_spread_6_plus_cv", "network")] = float(spread.get("cv", np.nan))
    _waits(result, figures)
    _activity(result, world, figures)
    return figures


def summarise(results: Sequence[ReplicationResult], world: World) -> pd.DataFrame:
    """measure, group, mean, lo, hi, n across replications."""
    frame = _figures_frame(results, world)
    return _interval(frame)


def compare(baseline: Sequence[ReplicationResult], changed: Sequence[ReplicationResult],
            world: World) -> pd.DataFrame:
    """Baseline and scenario side by side, with the paired difference and its interval."""
    base = _figures_frame(baseline, world)
    scen = _figures_frame(changed, world).reindex(base.index.union(
        _figures_frame(changed, world).index))
    base = base.reindex(scen.index)
    table = _interval(base).add_prefix("baseline_").join(_interval(scen).add_prefix("scenario_"))
    table = table.join(_interval(scen - base).add_prefix("difference_"))
    return table.reset_index()


def _figures_frame(results: Sequence[ReplicationResult], world: World) -> pd.DataFrame:
    columns = {i: replication_figures(r, world) for i, r in enumerate(results)}
    frame = pd.DataFrame(columns)
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=GROUP_COLUMNS)
    return frame


def _interval(frame: pd.DataFrame) -> pd.DataFrame:
    values = frame.to_numpy(dtype=float)
    n = np.sum(~np.isnan(values), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(values, axis=1)
        sd = np.nanstd(values, axis=1, ddof=1) if values.shape[1] > 1 else np.zeros(len(values))
        half = stats.t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1))
    half = np.where(n > 1, half, np.nan)
    return pd.DataFrame({"mean": mean, "lo": mean - half, "hi": mean + half, "n": n},
                        index=frame.index)


def _ratio(part: float, whole: float) -> float:
    return float(part / whole) if whole else 0.0


def _percentile(histogram: np.ndarray, q: float) -> float:
    total = histogram.sum()
    if total == 0:
        return np.nan
    return float(np.searchsorted(np.cumsum(histogram), q * total))


def _waits(result: ReplicationResult, figures: dict) -> None:
    network = result.wait_days.sum(axis=(0, 1))
    figures[("wait_p50_days", "network")] = _percentile(network, 0.5)
    figures[("wait_p90_days", "network")] = _percentile(network, 0.9)
    for m, modality in enumerate(MODALITIES):
        histogram = result.wait_days[:, m].sum(axis=0)
        figures[("wait_p50_days", f"modality:{modality.value}")] = _percentile(histogram, 0.5)
        figures[("wait_p90_days", f"modality:{modality.value}")] = _percentile(histogram, 0.9)
    figures[("walk_in_wait_p90_minutes", "network")] = _percentile(result.walk_in_minutes, 0.9)


def _activity(result: ReplicationResult, world: World, figures: dict) -> None:
    def rate(num, den) -> float:
        return float(num / den) if den else np.nan

    for m, modality in enumerate(MODALITIES):
        group = f"modality:{modality.value}"
        figures[("utilisation", group)] = rate(result.attended[:, m].sum(),
                                               result.planned[:, m].sum())
        figures[("dna_rate", group)] = rate(result.dna[:, m].sum(),
                                            result.dna[:, m].sum() + result.attended[:, m].sum())
    for s, site in enumerate(world.site_ids):
        figures[("utilisation", f"site:{site}")] = rate(result.attended[s].sum(),
                                                        result.planned[s].sum())
    figures[("utilisation", "network")] = rate(result.attended.sum(), result.planned.sum())
    figures[("dna_rate", "network")] = rate(result.dna.sum(),
                                            result.dna.sum() + result.attended.sum())
    figures[("freed_slot_reuse_rate", "network")] = rate(result.refilled, result.freed)
    figures[("fill_rate_by_offers", "network")] = rate(result.filled_by_offer, result.freed)
    figures[("travel_mean_km", "network")] = rate(result.travel_km[:, 0].sum(),
                                                  result.travel_km[:, 1].sum())
    for t, trust in enumerate(world.trust_ids):
        figures[("travel_mean_km", f"trust:{trust}")] = rate(result.travel_km[t, 0],
                                                            result.travel_km[t, 1])
    figures[("attended", "network")] = float(result.attended.sum())

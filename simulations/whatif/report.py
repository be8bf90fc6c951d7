"""What a manager takes away from a run: CSV for spreadsheets (every figure with its interval,
baseline and scenario; DM01 bands by trust and test; the weekly waiting list), PNG plots
(matplotlib, Agg backend) and one self-contained HTML page with the plots embedded and tables
that sort when a heading is clicked. Every page says it is a simulation, never the live
schedule (a hazard in the clinical safety log)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simulations.whatif.experiment import Experiment
from simulations.whatif.summary import compare, dm01_bands

HEADLINE = ("share_6_plus_weeks", "share_13_plus_weeks", "waiting_list", "wait_p50_days",
            "wait_p90_days", "utilisation", "dna_rate", "freed_slot_reuse_rate",
            "fill_rate_by_offers",
            "travel_mean_km", "trust_spread_6_plus_range", "trust_spread_6_plus_cv")
SIMULATION_NOTICE = ("SIMULATION - not the live schedule. Figures are means of replications "
                     "with 95 % confidence intervals.")


def write_report(experiment: Experiment, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    world = experiment.baseline_inputs.world
    figures = compare(experiment.baseline, experiment.changed, world)
    bands = pd.concat([
        dm01_bands(experiment.baseline, world, ["trust", "test"]).assign(arm="baseline"),
        dm01_bands(experiment.changed, world, ["trust", "test"]).assign(arm="scenario")])
    weekly = weekly_frame(experiment)
    paths = [folder / "figures.csv", folder / "dm01_bands.csv", folder / "weekly.csv"]
    figures.to_csv(paths[0], index=False)
    bands.to_csv(paths[1], index=False)
    weekly.to_csv(paths[2], index=False)
    plots = [_plot_trusts(figures, folder / "share_6_plus_by_trust.png"),
             _plot_weekly(weekly, folder / "weekly_waiting_list.png"),
             _plot_modality(figures, folder / "utilisation_by_modality.png")]
    page = folder / "report.html"
    page.write_text(_html(experiment, figures, plots), encoding="utf-8")
    return [*paths, *plots, page]


def weekly_frame(experiment: Experiment) -> pd.DataFrame:
    """Mean weekly DM01 waiting list and 6+ week share per arm, weeks after warm-up."""
    rows = []
    for arm, results in (("baseline", experiment.baseline), ("scenario", experiment.changed)):
        stacked = np.stack([r.weekly for r in results]).astype(float)
        share = stacked[:, :, 1] / np.maximum(stacked[:, :, 0], 1)
        for week in range(stacked.shape[1]):
            rows.append({"arm": arm, "week": experiment.plan.warmup_weeks + week + 1,
                         "waiting_list": stacked[:, week, 0].mean(),
                         "share_6_plus_weeks": share[:, week].mean(),
                         "share_6_plus_weeks_sd": share[:, week].std()})
    return pd.DataFrame(rows)


def _plot_trusts(figures: pd.DataFrame, path: Path) -> Path:
    rows = figures[(figures.measure == "share_6_plus_weeks")
                   & figures.group.str.startswith("trust:")].sort_values("baseline_mean")
    names = rows.group.str.removeprefix("trust:")
    x = np.arange(len(rows))
    figure, axis = plt.subplots(figsize=(10, 4.5))
    for offset, arm, colour in ((-0.2, "baseline", "#768692"), (0.2, "scenario", "#005eb8")):
        mean = rows[f"{arm}_mean"].to_numpy() * 100
        error = np.nan_to_num((rows[f"{arm}_hi"] - rows[f"{arm}_lo"]).to_numpy() * 50)
        axis.bar(x + offset, mean, 0.4, yerr=error, label=arm, color=colour, capsize=2)
    axis.set_xticks(x, names, rotation=60, ha="right")
    axis.set_ylabel("% waiting 6+ weeks (DM01)")
    axis.set_title("Waiting 6+ weeks by referring trust, end of run (95 % CI)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _plot_weekly(weekly: pd.DataFrame, path: Path) -> Path:
    figure, axis = plt.subplots(figsize=(10, 4))
    for arm, colour in (("baseline", "#768692"), ("scenario", "#005eb8")):
        rows = weekly[weekly.arm == arm]
        axis.plot(rows.week, rows.share_6_plus_weeks * 100, label=arm, color=colour)
        axis.fill_between(rows.week, (rows.share_6_plus_weeks - rows.share_6_plus_weeks_sd) * 100,
                          (rows.share_6_plus_weeks + rows.share_6_plus_weeks_sd) * 100,
                          color=colour, alpha=0.2)
    axis.set_xlabel("week simulated")
    axis.set_ylabel("% waiting 6+ weeks")
    axis.set_title("Network DM01 waiting list, weekly (band: one SD across replications)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _plot_modality(figures: pd.DataFrame, path: Path) -> Path:
    rows = figures[(figures.measure == "utilisation") & figures.group.str.startswith("modality:")]
    x = np.arange(len(rows))
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for offset, arm, colour in ((-0.2, "baseline", "#768692"), (0.2, "scenario", "#005eb8")):
        axis.bar(x + offset, rows[f"{arm}_mean"] * 100, 0.4, label=arm, color=colour)
    axis.set_xticks(x, rows.group.str.removeprefix("modality:"))
    axis.set_ylabel("% of diary slots attended")
    axis.set_title("Utilisation by modality")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _html(experiment: Experiment, figures: pd.DataFrame, plots: list[Path]) -> str:
    headline = figures[figures.measure.isin(HEADLINE) & (figures.group == "network")]
    by_trust = figures[figures.measure.isin(("share_6_plus_weeks", "share_13_plus_weeks"))
                       & ~figures.group.isin(["network"])]
    images = "".join(
        f'<figure><img alt="{html.escape(p.stem.replace("_", " "))}" '
        f'src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}"></figure>'
        for p in plots)
    plan = experiment.plan
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>What-if: {html.escape(experiment.scenario.name)}</title>
<style>body{{font-family:Arial,sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em}}
th{{cursor:pointer;background:#f0f4f5}}.notice{{background:#ffeb3b;padding:.6em;font-weight:bold}}
img{{max-width:100%}}</style></head><body>
<p class="notice">{SIMULATION_NOTICE}</p>
<h1>{html.escape(experiment.scenario.name)}</h1>
<p>{html.escape(experiment.scenario.description)}</p>
<p>{plan.weeks} weeks ({plan.warmup_weeks} of warm-up not counted), {plan.replications}
replications per arm, seed {plan.seed}.</p>
<h2>Network</h2>{_table(headline)}
{images}
<h2>By trust, ICS and test</h2>{_table(by_trust)}
<script>document.querySelectorAll("table").forEach(t=>t.querySelectorAll("th").forEach((h,i)=>
h.addEventListener("click",()=>{{const b=t.tBodies[0],r=[...b.rows],
d=h.dataset.d=-(h.dataset.d||-1);
r.sort((x,y)=>{{const a=x.cells[i].innerText,c=y.cells[i].innerText,n=parseFloat(a)-parseFloat(c);
return d*(isNaN(n)?a.localeCompare(c):n)}});r.forEach(x=>b.appendChild(x))}})))</script>
</body></html>"""


def _table(rows: pd.DataFrame) -> str:
    columns = ["measure", "group", "baseline_mean", "baseline_lo", "baseline_hi",
               "scenario_mean", "scenario_lo", "scenario_hi", "difference_mean",
               "difference_lo", "difference_hi"]
    head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(row[c])}</td>" for c in columns) + "</tr>"
                   for row in rows.to_dict("records"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:,.4g}"
    return html.escape(str(value))

"""The manager dashboard's charts, drawn on the server as SVG with matplotlib from the read
model's tables: trend lines, the DM01 weeks-waited bands as stacked bars, utilisation by
modality. Each chart is drawn once per computed dashboard and kept while the dashboard is; the
page shows it as an image whose text alternative points to the table of the same figures."""

from __future__ import annotations

import io
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from booking_api.reports.dashboard import Dashboard

CHARTS: dict[str, str] = {
    "waiting_trend": "Waiting list at each month end, and those waiting 6 weeks or more",
    "turnaround_trend": "Median days from request received to booked and to test, by month",
    "attendance_trend": "Did-not-attend and cancellation rates, by month",
    "dm01_bands": "Waiting list by weeks waited (DM01 bands), by test",
    "utilisation": "Booked share of session minutes, by modality",
}
"""Each chart's name and its text alternative's summary."""

_DRAWN: weakref.WeakKeyDictionary[Dashboard, dict[str, bytes]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
COLOURS = ("#005eb8", "#d5281b", "#007f3b", "#7c2855")
"""NHS blue, red, green and plum: distinct to most forms of colour blindness with markers."""


def chart_svg(dashboard: Dashboard, name: str) -> bytes:
    """The chart `name` (one of CHARTS) of `dashboard`, as an SVG document."""
    with _LOCK:
        drawn = _DRAWN.setdefault(dashboard, {})
        if name in drawn:
            return drawn[name]
    svg = _draw(DRAWERS[name], dashboard)
    with _LOCK:
        _DRAWN.setdefault(dashboard, {})[name] = svg
    return svg


def _draw(drawer: Callable[[Any, Dashboard], None], dashboard: Dashboard) -> bytes:
    from matplotlib.figure import Figure  # imported on first use: a second at start-up

    figure = Figure(figsize=(8, 3.6), layout="constrained")
    axes = figure.add_subplot()
    drawer(axes, dashboard)
    axes.spines[["top", "right"]].set_visible(False)
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _months(axes: Any, months: list[str]) -> None:
    axes.set_xticks(range(len(months)), months, rotation=45, ha="right", fontsize=8)


def _lines(axes: Any, months: list[str], series: dict[str, Any], label: str) -> None:
    for (name, values), colour, marker in zip(series.items(), COLOURS, "os^D", strict=False):
        axes.plot(range(len(months)), np.asarray(values, dtype=float), marker=marker,
                  color=colour, label=name)
    _months(axes, months)
    axes.set_ylabel(label)
    axes.set_ylim(bottom=0)
    axes.legend(frameon=False, fontsize=8)
    axes.grid(axis="y", color="#d8dde0")


def _waiting(axes: Any, dashboard: Dashboard) -> None:
    trend = dashboard.waiting_trend
    _lines(axes, list(trend.month), {"Waiting list": trend.waiting_list,
                                     "Waiting 6+ weeks": trend.waiting_6plus_weeks},
           "requests")


def _turnaround(axes: Any, dashboard: Dashboard) -> None:
    trend = dashboard.turnaround_trend
    _lines(axes, list(trend.month), {
        "Received to booked": trend.received_to_booked_median_days,
        "Received to test": trend.received_to_test_median_days}, "median days")


def _attendance(axes: Any, dashboard: Dashboard) -> None:
    trend = dashboard.attendance_trend
    _lines(axes, list(trend.month), {
        "Did not attend": np.asarray(trend.dna_rate, dtype=float) * 100,
        "Cancelled": np.asarray(trend.cancellation_rate, dtype=float) * 100}, "per cent")


def _bands(axes: Any, dashboard: Dashboard) -> None:
    from matplotlib import colormaps

    bands = dashboard.dm01_bands
    columns = [c for c in bands.columns if "<" in c or c == "13+ Weeks"]
    tests = list(bands.test) if len(bands) else []
    left = np.zeros(len(tests))
    shades = colormaps["viridis"](np.linspace(0, 0.95, len(columns)))
    for column, shade in zip(columns, shades, strict=True):
        values = bands[column].to_numpy(dtype=float) if len(bands) else np.zeros(0)
        axes.barh(tests, values, left=left, color=shade, label=column)
        left += values
    axes.set_xlabel("requests waiting at the month end")
    axes.invert_yaxis()
    axes.tick_params(axis="y", labelsize=8)
    if tests:
        axes.legend(frameon=False, fontsize=6, ncols=7, loc="upper center",
                    bbox_to_anchor=(0.5, -0.18))
    else:
        axes.text(0.5, 0.5, "No one waiting", ha="center", transform=axes.transAxes)


def _utilisation(axes: Any, dashboard: Dashboard) -> None:
    used = dashboard.utilisation
    modalities = list(used.modality)
    axes.bar(modalities, np.asarray(used.booked_share, dtype=float) * 100, color=COLOURS[0])
    axes.set_ylabel("per cent of session minutes booked")
    axes.set_ylim(0, 100)
    if not modalities:
        axes.text(0.5, 0.5, "No sessions this month", ha="center", transform=axes.transAxes)


DRAWERS: dict[str, Callable[[Any, Dashboard], None]] = {
    "waiting_trend": _waiting, "turnaround_trend": _turnaround,
    "attendance_trend": _attendance, "dm01_bands": _bands, "utilisation": _utilisation,
}

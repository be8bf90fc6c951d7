"""The manager dashboard's charts, written on the server as plain SVG (`svg_drawing`) from
the read model's tables: trend lines, the DM01 weeks-waited bands as stacked bars, utilisation
by modality. Each chart is drawn once per computed dashboard and kept while the dashboard is; the
page shows it as an image whose text alternative points to the table of the same figures.
Dashboards computed in the background (at start, after a change) have their charts drawn
there too (`draw_ahead`), so a chart is a lookup when the page asks for it."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from booking_api.reports.dashboard import Dashboard
from staff_console.svg_drawing import bars, line_chart, stacked_bars

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
BAND_SHADES = ("#fde725", "#a0da39", "#4ac16d", "#1fa187", "#277f8e", "#365c8d", "#46327e",
               "#440154")
"""The weeks-waited bands from short (light) to long (dark): viridis, readable in grey."""


def draw_ahead(dashboard: Dashboard) -> None:
    """Draw every chart of `dashboard` now (in the background thread that computed it)."""
    for name in CHARTS:
        chart_svg(dashboard, name)


def chart_svg(dashboard: Dashboard, name: str) -> bytes:
    """The chart `name` (one of CHARTS) of `dashboard`, as an SVG document."""
    with _LOCK:
        drawn = _DRAWN.setdefault(dashboard, {})
        if name in drawn:
            return drawn[name]
    svg = DRAWERS[name](dashboard)
    with _LOCK:
        _DRAWN.setdefault(dashboard, {})[name] = svg
    return svg


def _floats(values: Any) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=float)]


def _waiting(dashboard: Dashboard) -> bytes:
    trend = dashboard.waiting_trend
    return line_chart(CHARTS["waiting_trend"], list(trend.month), {
        "Waiting list": _floats(trend.waiting_list),
        "Waiting 6+ weeks": _floats(trend.waiting_6plus_weeks)}, "requests", COLOURS)


def _turnaround(dashboard: Dashboard) -> bytes:
    trend = dashboard.turnaround_trend
    return line_chart(CHARTS["turnaround_trend"], list(trend.month), {
        "Received to booked": _floats(trend.received_to_booked_median_days),
        "Received to test": _floats(trend.received_to_test_median_days)}, "median days",
        COLOURS)


def _attendance(dashboard: Dashboard) -> bytes:
    trend = dashboard.attendance_trend
    return line_chart(CHARTS["attendance_trend"], list(trend.month), {
        "Did not attend": [v * 100 for v in _floats(trend.dna_rate)],
        "Cancelled": [v * 100 for v in _floats(trend.cancellation_rate)]}, "per cent",
        COLOURS)


def _bands(dashboard: Dashboard) -> bytes:
    bands = dashboard.dm01_bands
    columns = [c for c in bands.columns if "<" in c or c == "13+ Weeks"]
    tests = [str(t) for t in bands.test] if len(bands) else []
    values = [_floats(bands[columns].iloc[i]) for i in range(len(tests))]
    return stacked_bars(CHARTS["dm01_bands"], tests, columns, values,
                        "requests waiting at the month end", band_shades(len(columns)),
                        "No one waiting")


def band_shades(count: int) -> list[str]:
    """`count` colours from BAND_SHADES' first to last, evenly spaced."""
    anchors = [tuple(int(h[i:i + 2], 16) for i in (1, 3, 5)) for h in BAND_SHADES]
    shades = []
    for n in range(count):
        at = n * (len(anchors) - 1) / max(count - 1, 1)
        low = min(int(at), len(anchors) - 2)
        part = at - low
        rgb = (round(a + (b - a) * part) for a, b in zip(anchors[low], anchors[low + 1],
                                                            strict=True))
        shades.append("#" + "".join(f"{c:02x}" for c in rgb))
    return shades


def _utilisation(dashboard: Dashboard) -> bytes:
    used = dashboard.utilisation
    return bars(CHARTS["utilisation"], [str(m) for m in used.modality],
                [v * 100 for v in _floats(used.booked_share)],
                "per cent of session minutes booked", 100, COLOURS[0],
                "No sessions this month")


DRAWERS: dict[str, Callable[[Dashboard], bytes]] = {
    "waiting_trend": _waiting, "turnaround_trend": _turnaround,
    "attendance_trend": _attendance, "dm01_bands": _bands, "utilisation": _utilisation,
}

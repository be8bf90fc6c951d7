"""Plain SVG charts written as text: lines over months, horizontal stacked bars, vertical
bars, each with axes, gridlines, ticks and a legend. A chart is a few kilobytes of markup
written in about a millisecond, where a plotting library took a few hundred (and seconds to
import): the dashboard's charts are drawn per request without anyone waiting. No data in,
no data out but numbers and labels: the caller passes figures, never records."""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 768, 346
FONT = "Arial, Helvetica, sans-serif"
TEXT = "#212b32"
GRID = "#d8dde0"
MARKERS = ("circle", "square", "triangle", "diamond")


class Svg:
    """One chart's markup, written element by element."""

    def __init__(self, title: str) -> None:
        self._parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{FONT}" font-size="12" '
            f'fill="{TEXT}">', f"<title>{escape(title)}</title>",
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: str = TEXT,
             width: float = 1) -> None:
        self._parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                           f'stroke="{colour}" stroke-width="{width}"/>')

    def rect(self, x: float, y: float, width: float, height: float, colour: str) -> None:
        self._parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" '
                           f'height="{max(height, 0):.1f}" fill="{colour}"/>')

    def polyline(self, points: Sequence[tuple[float, float]], colour: str) -> None:
        joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self._parts.append(f'<polyline points="{joined}" fill="none" stroke="{colour}" '
                           f'stroke-width="2"/>')

    def marker(self, kind: str, x: float, y: float, colour: str) -> None:
        r = 4.0
        if kind == "circle":
            self._parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>')
        elif kind == "square":
            self.rect(x - r, y - r, 2 * r, 2 * r, colour)
        else:
            shape = ((x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)) if (
                kind == "triangle") else ((x, y - r - 1), (x + r + 1, y), (x, y + r + 1),
                                          (x - r - 1, y))
            joined = " ".join(f"{px:.1f},{py:.1f}" for px, py in shape)
            self._parts.append(f'<polygon points="{joined}" fill="{colour}"/>')

    def text(self, x: float, y: float, words: str, anchor: str = "start", size: int = 12,
             rotate: float | None = None) -> None:
        turn = f' transform="rotate({rotate} {x:.1f} {y:.1f})"' if rotate is not None else ""
        self._parts.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor={quoteattr(anchor)} '
                           f'font-size="{size}"{turn}>{escape(words)}</text>')

    def document(self) -> bytes:
        return ("".join(self._parts) + "</svg>").encode()


def nice_top(value: float) -> float:
    """The round number at or above `value` an axis ends at (1, 2, 2.5 or 5 times a power
    of ten); 1 for nothing to show."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if value <= m * power + 1e-9)


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[float]],
               y_label: str, colours: Sequence[str]) -> bytes:
    """Lines over `labels` (months); a missing value (NaN) breaks its line."""
    svg = Svg(title)
    left, right, top, bottom = 70, WIDTH - 20, 40, HEIGHT - 70
    values = [v for vs in series.values() for v in vs if math.isfinite(v)]
    y_top = nice_top(max(values, default=0))
    _value_axis(svg, left, right, top, bottom, y_top, y_label)
    step = (right - left) / max(len(labels), 1)

    def x(i: int) -> float:
        return left + step * (i + 0.5)

    for i, label in enumerate(labels):
        svg.text(x(i), bottom + 14, label, anchor="end", size=10, rotate=-45)
    for points, colour, kind in zip(series.values(), colours, MARKERS, strict=False):
        run: list[tuple[float, float]] = []
        for i, value in enumerate(points):
            if not math.isfinite(value):
                _draw_run(svg, run, colour)
                run = []
                continue
            run.append((x(i), bottom - (bottom - top) * value / y_top))
            svg.marker(kind, *run[-1], colour)
        _draw_run(svg, run, colour)
    _legend(svg, list(series), colours, right, 18)
    return svg.document()


def stacked_bars(title: str, rows: Sequence[str], columns: Sequence[str],
                 values: Sequence[Sequence[float]], x_label: str, colours: Sequence[str],
                 empty: str) -> bytes:
    """One horizontal bar per row, its parts stacked in `columns` order; legend below."""
    svg = Svg(title)
    left, right, top, bottom = 190, WIDTH - 20, 16, HEIGHT - 96
    if not rows:
        svg.text(WIDTH / 2, HEIGHT / 2, empty, anchor="middle", size=14)
        return svg.document()
    totals = [sum(v for v in row if math.isfinite(v)) for row in values]
    x_top = nice_top(max(totals, default=0))
    for tick in range(6):
        at = left + (right - left) * tick / 5
        svg.line(at, top, at, bottom, GRID)
        svg.text(at, bottom + 14, _number(x_top * tick / 5), anchor="middle", size=10)
    svg.text((left + right) / 2, bottom + 32, x_label, anchor="middle")
    band = (bottom - top) / len(rows)
    for r, (name, row) in enumerate(zip(rows, values, strict=True)):
        y, start = top + band * r + band * 0.15, 0.0
        svg.text(left - 6, top + band * (r + 0.5) + 4, _short(name, 30), anchor="end",
                 size=10)
        for value, colour in zip(row, colours, strict=False):
            width = (right - left) * (value if math.isfinite(value) else 0) / x_top
            svg.rect(left + (right - left) * start / x_top, y, width, band * 0.7, colour)
            start += value if math.isfinite(value) else 0
    svg.line(left, top, left, bottom)
    per_line = 7
    for i, (name, colour) in enumerate(zip(columns, colours, strict=False)):
        x = 20 + (i % per_line) * ((WIDTH - 40) / per_line)
        y = bottom + 50 + 16 * (i // per_line)
        svg.rect(x, y - 9, 10, 10, colour)
        svg.text(x + 14, y, name, size=9)
    return svg.document()


def bars(title: str, labels: Sequence[str], values: Sequence[float], y_label: str,
         y_top: float, colour: str, empty: str) -> bytes:
    """One vertical bar per label, on an axis from 0 to `y_top`."""
    svg = Svg(title)
    left, right, top, bottom = 70, WIDTH - 20, 20, HEIGHT - 40
    _value_axis(svg, left, right, top, bottom, y_top, y_label)
    if not labels:
        svg.text((left + right) / 2, (top + bottom) / 2, empty, anchor="middle", size=14)
        return svg.document()
    step = (right - left) / len(labels)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = (bottom - top) * min(value if math.isfinite(value) else 0, y_top) / y_top
        svg.rect(left + step * (i + 0.15), bottom - height, step * 0.7, height, colour)
        svg.text(left + step * (i + 0.5), bottom + 16, label, anchor="middle")
    return svg.document()


def _value_axis(svg: Svg, left: float, right: float, top: float, bottom: float,
                y_top: float, label: str) -> None:
    for tick in range(6):
        at = bottom - (bottom - top) * tick / 5
        svg.line(left, at, right, at, GRID)
        svg.text(left - 6, at + 4, _number(y_top * tick / 5), anchor="end", size=10)
    svg.line(left, top, left, bottom)
    svg.line(left, bottom, right, bottom)
    svg.text(16, (top + bottom) / 2, label, anchor="middle", rotate=-90)


def _draw_run(svg: Svg, run: list[tuple[float, float]], colour: str) -> None:
    if len(run) > 1:
        svg.polyline(run, colour)


def _legend(svg: Svg, names: Sequence[str], colours: Sequence[str], right: float,
            y: float) -> None:
    x = right
    for name, colour, kind in reversed(list(zip(names, colours, MARKERS, strict=False))):
        x -= 24 + 6.5 * len(name)
        svg.line(x, y - 4, x + 18, y - 4, colour, 2)
        svg.marker(kind, x + 9, y - 4, colour)
        svg.text(x + 22, y, name, size=11)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"

"""The dashboard's charts written as plain SVG: well-formed documents, axes that end at a
round number, a missing month that breaks its line instead of drawing it as zero, a bar per
part and a message when there is nothing to draw."""

from __future__ import annotations

import math
from xml.etree import ElementTree

import pytest

from staff_console.svg_drawing import bars, line_chart, nice_top, stacked_bars

NS = {"svg": "http://www.w3.org/2000/svg"}
MONTHS = ["2026-08", "2026-09", "2026-10", "2026-11"]


@pytest.mark.parametrize(("value", "top"), [
    (0, 1), (math.nan, 1), (0.7, 1), (1, 1), (1.3, 2), (2.2, 2.5), (3, 5), (730, 1000),
    (1001, 2000)])
def test_an_axis_ends_at_the_round_number_at_or_above_the_largest_value(value, top) -> None:
    assert nice_top(value) == pytest.approx(top)


def test_a_missing_month_breaks_the_line_into_two_runs() -> None:
    drawn = ElementTree.fromstring(line_chart(
        "Waiting <list> & more", MONTHS, {"Waiting": [3.0, 4.0, math.nan, 5.0],
                                          "6+ weeks": [1.0, 1.0, 2.0, 2.0]},
        "requests", ("#005eb8", "#d5281b")))
    lines = drawn.findall("svg:polyline", NS)
    assert [len(line.get("points", "").split()) for line in lines] == [2, 4]
    assert drawn.find("svg:title", NS).text == "Waiting <list> & more"


def test_stacked_bars_draw_one_rectangle_per_part_of_each_row() -> None:
    drawn = ElementTree.fromstring(stacked_bars(
        "Bands", ["CT", "MR"], ["0 <01 Week", "13+ Weeks"], [[2.0, 1.0], [0.0, 4.0]],
        "requests", ("#fde725", "#440154"), "No one waiting"))
    parts = [r for r in drawn.findall("svg:rect", NS) if r.get("height") != "10.0"]
    widths = [float(r.get("width", 0)) for r in parts[1:]]  # after the background
    assert len(widths) == 4
    assert widths[0] == pytest.approx(2 * widths[1])
    assert widths[3] == pytest.approx(4 * widths[1])


@pytest.mark.parametrize("document", [
    stacked_bars("Bands", [], [], [], "requests", (), "No one waiting"),
    bars("Use", [], [], "per cent", 100, "#005eb8", "No one waiting")])
def test_nothing_to_draw_says_so(document: bytes) -> None:
    drawn = ElementTree.fromstring(document)
    assert "No one waiting" in [t.text for t in drawn.findall("svg:text", NS)]

"""A month's figures together: every table is there, a month without activity gives empty
tables rather than an error, and each table is written as a CSV file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reporting import Month, month_figures, prepare, write_figures
from tests.reporting.test_utilisation_and_attendance import _morning

TABLES = {"turnaround", "waiting_list", "session_utilisation", "room_utilisation",
          "modality_utilisation", "attendance", "variation", "demand_capacity"}


def test_a_month_has_every_table() -> None:
    world, _ = _morning()
    figures = month_figures(prepare(world.inputs()), Month.parse("2025-03"))
    assert set(figures.tables()) == TABLES
    assert not figures.attendance.empty and not figures.session_utilisation.empty


def test_a_month_without_activity_gives_empty_tables() -> None:
    world, _ = _morning()
    figures = month_figures(prepare(world.inputs()), Month.parse("2023-01"))
    assert figures.turnaround.empty and figures.attendance.empty
    assert figures.waiting_list.empty
    assert (figures.variation.trusts == 0).all()


def test_each_table_is_written_as_a_csv_named_for_the_month(tmp_path: Path) -> None:
    world, _ = _morning()
    figures = month_figures(prepare(world.inputs()), Month.parse("2025-03"))
    written = write_figures(figures, tmp_path)
    assert {path.name for path in written} == {f"{name}-2025-03.csv" for name in TABLES}
    assert len(pd.read_csv(tmp_path / "attendance-2025-03.csv")) == len(figures.attendance)

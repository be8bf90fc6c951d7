"""`cdip seed` loads the network, catalogue and demo patients in one transaction, and a second
run changes nothing."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date

import pytest
import typer
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from booking_api.core.config import get_settings
from booking_api.demo import seed as seed_module
from booking_api.demo.seed import seed_demo
from booking_api.tables import metadata
from cdip_cli.seed_commands import seed as seed_command
from domain.exams import ExamType
from domain.network import Network

TODAY = date(2026, 11, 30)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in metadata.tables.items()}


def contents_checksum(engine: Engine) -> str:
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key.columns))
            for row in rows:
                digest.update(repr((table.name, tuple(row))).encode())
    return digest.hexdigest()


def test_seed_loads_the_network_catalogue_and_demo_patients(
    engine: Engine, tiny_network: Network, tiny_catalogue: dict[str, ExamType]
) -> None:
    summary = seed_demo(engine, TODAY, tiny_network, tiny_catalogue, patients=12)

    counts = row_counts(engine)
    assert {k: counts[k] for k in ("ics", "trust", "site", "room", "staff_group",
                                   "demand_area", "exam_type", "patient")} == {
        "ics": 1, "trust": 1, "site": 2, "room": 3, "staff_group": 2, "demand_area": 3,
        "exam_type": 2, "patient": 12}
    assert 12 <= counts["request"] <= 24
    assert counts["request_event"] == 3 * counts["request"]
    assert summary.patients_added == 12 and summary.requests_added == counts["request"]
    assert len(summary.examples) == 5


def test_second_seed_changes_nothing(
    engine: Engine, tiny_network: Network, tiny_catalogue: dict[str, ExamType]
) -> None:
    seed_demo(engine, TODAY, tiny_network, tiny_catalogue, patients=12)
    counts, checksum = row_counts(engine), contents_checksum(engine)

    again = seed_demo(engine, date(2027, 1, 15), tiny_network, tiny_catalogue, patients=12)

    assert (row_counts(engine), contents_checksum(engine)) == (counts, checksum)
    assert again.patients_added == again.requests_added == 0
    assert all(t.inserted == t.updated == 0 for t in again.reference_tables)


def test_seed_updates_a_reference_row_that_changed_in_the_files(
    engine: Engine, tiny_network: Network, tiny_catalogue: dict[str, ExamType]
) -> None:
    seed_demo(engine, TODAY, tiny_network, tiny_catalogue, patients=3)
    renamed = replace(tiny_network.sites[0], name="Renamed hospital")
    changed = replace(tiny_network, sites=(renamed, *tiny_network.sites[1:]))

    summary = seed_demo(engine, TODAY, changed, tiny_catalogue, patients=3)

    by_table = {t.table: t for t in summary.reference_tables}
    assert (by_table["site"].updated, by_table["site"].unchanged) == (1, 1)
    assert sum(t.updated for t in summary.reference_tables) == 1


def test_seed_that_fails_half_way_leaves_nothing(
    engine: Engine, tiny_network: Network, tiny_catalogue: dict[str, ExamType],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("demo patients could not be made")

    monkeypatch.setattr(seed_module, "demo_patients", fail)  # after the network is written
    migrated = row_counts(engine)  # what the migrations wrote (the interop settings stamp)

    with pytest.raises(RuntimeError, match="demo patients"):
        seed_demo(engine, TODAY, tiny_network, tiny_catalogue)

    assert row_counts(engine) == migrated


def test_cdip_seed_twice_on_the_reference_network_changes_nothing(
    engine: Engine, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDIP_DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    runner = CliRunner()
    app = _single_command_app()

    first = runner.invoke(app, ["--today", TODAY.isoformat()])
    counts, checksum = row_counts(engine), contents_checksum(engine)
    second = runner.invoke(app, ["--today", TODAY.isoformat()])

    get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert counts["room"] > 700 and counts["patient"] == 50
    assert (row_counts(engine), contents_checksum(engine)) == (counts, checksum)
    assert "0 added, 0 updated" in second.output
    assert "Demo booking references" in second.output


def _single_command_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(seed_command)
    return app

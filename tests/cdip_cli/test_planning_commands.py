"""`cdip history import` and `cdip diary build` as an operator uses them: a bad export or rota
file exits 2 naming the file, row and field, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from booking_api.core.config import get_settings
from booking_api.core.db import transaction
from booking_api.diary.models import HistoryDemand
from booking_api.network.services import mirror_reference_data
from booking_api.slots.models import DiarySession
from cdip_cli.main import app
from domain.exams import exam_catalogue
from domain.network import load_reference_network
from tests.booking_api.test_planning_demand import write_export

runner = CliRunner()


@pytest.fixture
def cli_database(monkeypatch: pytest.MonkeyPatch, migrated_url: str) -> Iterator[str]:
    monkeypatch.setenv("CDIP_DATABASE_URL", migrated_url)
    monkeypatch.setenv("CDIP_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def _squeezed(output: str) -> str:
    """The output without whitespace: rich wraps long paths at the terminal's width."""
    return "".join(output.split())


def _count(url: str, table) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(table))
    finally:
        engine.dispose()


def test_history_import_of_a_bad_export_names_row_and_field_and_stores_nothing(
        cli_database, tmp_path):
    result = runner.invoke(app, ["history", "import",
                                 str(write_export(tmp_path / "export", bad_area_row=4))])
    assert result.exit_code == 2
    assert "requests.csv,row4,field'area_id'" in _squeezed(result.output)
    assert _count(cli_database, HistoryDemand.__table__) == 0


def test_history_import_stores_the_weekly_counts(cli_database, tmp_path):
    result = runner.invoke(app, ["history", "import", str(write_export(tmp_path / "export"))])
    assert result.exit_code == 0, result.output
    assert _count(cli_database, HistoryDemand.__table__) > 0


@pytest.mark.parametrize(("cells", "field"), [
    ("NOWHERE,{group},2027-03-01,,1,0,", "site_id"),
    ("{site},{group},2027-13-01,,1,0,", "date"),
])
def test_diary_build_refuses_a_bad_rota_naming_file_row_and_field(cli_database, tmp_path,
                                                                   cells, field):
    group = load_reference_network().staff_groups[0]
    rota = tmp_path / "rota.csv"
    rota.write_text("site_id,staff_group_id,date,period,rostered,on_leave,note\n"
                    + cells.format(site=group.site_id, group=group.staff_group_id) + "\n")
    result = runner.invoke(app, ["diary", "build", "--staff-availability", str(rota)])
    assert result.exit_code == 2
    assert f"rota.csv,row2,field'{field}'" in _squeezed(result.output)
    assert _count(cli_database, DiarySession.__table__) == 0


def test_diary_build_refuses_overlapping_rota_rows(cli_database, tmp_path):
    group = load_reference_network().staff_groups[0]
    rota = tmp_path / "rota.csv"
    rota.write_text("site_id,staff_group_id,date,period,rostered,on_leave,note\n"
                    + f"{group.site_id},{group.staff_group_id},2027-03-01,morning,1,0,\n" * 2)
    result = runner.invoke(app, ["diary", "build", "--staff-availability", str(rota)])
    assert result.exit_code == 2
    assert "row3,field'period'" in _squeezed(result.output)


def test_diary_build_without_a_history_says_how_to_get_one(cli_database):
    result = runner.invoke(app, ["diary", "build"])
    assert result.exit_code == 2
    assert "cdiphistoryimport" in _squeezed(result.output)
    assert _count(cli_database, DiarySession.__table__) == 0


def test_disruption_add_list_and_revoke(cli_database):
    network = load_reference_network()
    engine = create_engine(cli_database)
    try:
        with transaction(engine) as session:
            mirror_reference_data(session, network, exam_catalogue())
    finally:
        engine.dispose()
    room = network.rooms[0].room_id
    day = (date.today() + timedelta(days=7)).isoformat()
    unknown = runner.invoke(app, ["disruption", "add", "--kind", "room_down", "--room", "NOPE",
                                  "--from", day, "--reason", "fault"])
    assert unknown.exit_code == 2 and "room_id: no room 'NOPE'" in unknown.output
    past = runner.invoke(app, ["disruption", "add", "--kind", "room_down", "--room", room,
                               "--from", "2020-01-06", "--reason", "fault"])
    assert past.exit_code == 2 and "first_day" in past.output
    kept = runner.invoke(app, ["disruption", "add", "--kind", "room_down", "--room", room,
                               "--from", day, "--reason", "fault"])
    assert kept.exit_code == 0, kept.output
    listed = runner.invoke(app, ["disruption", "list"])
    assert room in listed.output
    revoked = runner.invoke(app, ["disruption", "revoke", "1", "--reason", "fixed"])
    assert revoked.exit_code == 0, revoked.output
    assert room not in runner.invoke(app, ["disruption", "list"]).output

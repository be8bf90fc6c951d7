"""`cdip history import` and `cdip diary build` as an operator uses them: a bad export or rota
file exits 2 naming the file, row and field, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from booking_api.appointments.models import Appointment
from booking_api.appointments.services import book_slot
from booking_api.core.config import get_settings
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.diary.models import Disruption, HistoryDemand
from booking_api.diary.services import write_sessions
from booking_api.network.services import mirror_reference_data
from booking_api.slots.models import DiarySession, Slot
from cdip_cli.main import app
from domain.exams import exam_catalogue
from domain.network import load_reference_network
from domain.session_templates import session_templates
from domain.vocabulary import SessionPeriod
from tests.booking_api.booking_world import CLERK, add_patients
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


def test_diary_repair_prints_the_moves_then_applies_them(cli_database):
    network = load_reference_network()
    site = next(s for s in network.sites
                if sum(r.modality.value == "XR" and not r.capabilities
                       for r in network.rooms_at(s.site_id)) >= 2)
    down, spare = [r.room_id for r in network.rooms_at(site.site_id)
                   if r.modality.value == "XR" and not r.capabilities][:2]
    today = date.today()
    day = today + timedelta(days=14 - today.weekday() + 1)  # a Tuesday at least a week away
    rooms = {room.room_id: room.site_id for room in network.rooms}
    engine = open_engine(cli_database)
    try:
        with transaction(engine) as session:
            mirror_reference_data(session, network, exam_catalogue())
            write_sessions(session, [((room, day, SessionPeriod.MORNING), "XR_PLAIN_GEN")
                                     for room in (down, spare)], session_templates(), rooms,
                           ZoneInfo("Europe/London"), datetime.now(UTC))
            _, requests = add_patients(session, 2, "XCHES")
            slots = list(session.scalars(select(Slot.id).where(Slot.room_id == down)
                                         .order_by(Slot.start_at)))
            booked = [book_slot(session, CLERK, request, slots[i], now=datetime.now(UTC)).id
                      for i, request in enumerate(requests)]
    finally:
        engine.dispose()
    command = ["diary", "repair", "--room", down, "--from", day.isoformat(), "--reason",
               "tube failure"]
    dry = runner.invoke(app, [*command, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "moves (2)" in dry.output and "nothing was changed" in dry.output
    assert _count(cli_database, Disruption.__table__) == 0
    applied = runner.invoke(app, command)
    assert applied.exit_code == 0, applied.output
    assert "applied: 2 moved and told" in applied.output
    assert _count(cli_database, Disruption.__table__) == 1
    engine = create_engine(cli_database)
    try:
        with engine.connect() as connection:
            moved = connection.execute(select(Appointment.id, Appointment.room_id).where(
                Appointment.state == "booked")).all()
    finally:
        engine.dispose()
    assert {room for _, room in moved} == {spare} and not {i for i, _ in moved} & set(booked)

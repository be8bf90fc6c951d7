"""Reporting inputs derived from a generated history folder: they pass the input checks, the
event log says what the appointments say, every appointment sits in a session of its room,
the optional identifier files are read, and the `cdip report` commands write their files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cdip_cli.main import app
from domain.exams import exam_catalogue
from domain.history import read_history
from domain.network import load_network
from reporting.errors import ReportInputError
from reporting.from_history import inputs_from_history
from reporting.layouts import DID, DM01
from reporting.record import prepare
from simulations.synthetic_history import HistorySettings, generate_history, write_history

MONTH = "2024-04"


@pytest.fixture(scope="module")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("history")
    network = load_network()
    settings = HistorySettings(weeks=6, seed=5, scale=0.02)
    write_history(generate_history(network, list(exam_catalogue().values()), settings), folder)
    return folder


@pytest.fixture(scope="module")
def inputs(history_dir: Path):
    return inputs_from_history(read_history(history_dir), load_network())


def test_derived_inputs_pass_the_checks(history_dir: Path, inputs) -> None:
    record = prepare(inputs)
    assert len(record.appointments.start) == len(read_history(history_dir).appointments)


def test_every_request_has_one_received_event(inputs) -> None:
    events = inputs.request_events
    received = events[events.to_state == "received"].request_id
    assert received.is_unique and len(received) == len(inputs.requests)


def test_each_attended_appointment_gives_an_attended_event_at_its_start(inputs) -> None:
    events = inputs.request_events
    attended = inputs.appointments[inputs.appointments.state == "attended"]
    seen = events[events.to_state == "attended"]
    assert sorted(zip(seen.request_id, seen["at"], strict=True)) == sorted(
        zip(attended.request_id, attended.start_at, strict=True))


def test_a_cancelled_appointment_puts_its_request_back_to_appointable(inputs) -> None:
    cancelled = inputs.appointments[inputs.appointments.state == "cancelled"]
    assert len(cancelled) > 0
    events = inputs.request_events
    reopened = events[events.to_state == "appointable"]
    pairs = set(zip(reopened.request_id, reopened["at"], strict=True))
    assert all((r, at) in pairs for r, at in zip(cancelled.request_id, cancelled.cancelled_at,
                                                 strict=True))


def test_appointments_sit_in_a_session_of_their_own_room_on_their_day(inputs) -> None:
    a = inputs.appointments.dropna(subset=["session_id"])
    sessions = inputs.sessions.set_index("session_id").loc[a.session_id.astype(np.int64)]
    assert (sessions.room_id.astype(str).to_numpy() == a.room_id.astype(str).to_numpy()).all()
    day = a.start_at.dt.tz_convert("Europe/London").dt.date.to_numpy()
    session_day = sessions.start_at.dt.tz_convert("Europe/London").dt.date.to_numpy()
    assert (day == session_day).all()
    assert len(a) >= 0.95 * len(inputs.appointments)


def test_identifier_files_fill_the_patient_and_request_details(history_dir: Path,
                                                                tmp_path: Path) -> None:
    history = read_history(history_dir)
    patient = history.patients.patient_id.iloc[0]
    (tmp_path / "patient_identifiers.csv").write_text(
        "patient_id,nhs_number,nhs_number_status,birth_date,ethnic_category,postcode,"
        f"gp_practice_code\n{patient},9434765919,01,1970-05-17,A,B15 2TH,M85001\n")
    inputs = inputs_from_history(history, load_network(), folder=tmp_path)
    assert inputs.patients.nhs_number.iloc[0] == "9434765919"
    assert inputs.patients.nhs_number.iloc[1:].isna().all()


def test_a_bad_identifier_file_is_refused_naming_file_row_and_column(history_dir: Path,
                                                                      tmp_path: Path) -> None:
    history = read_history(history_dir)
    request = history.requests.request_id.iloc[0]
    (tmp_path / "request_details.csv").write_text(
        "request_id,requested_on,source_setting,referrer_code,referring_org_code\n"
        f"{request},2024-13-01,04,G1234567,M85001\n")
    with pytest.raises(ReportInputError, match=r"request_details.csv, row 2, column "
                                               r"'requested_on': '2024-13-01' is not a date"):
        inputs_from_history(history, load_network(), folder=tmp_path)


def test_report_commands_write_the_returns_and_figures(history_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    dm01 = runner.invoke(app, ["report", "dm01", "--month", MONTH, "--history",
                               str(history_dir), "--out", str(tmp_path / "dm01.csv")])
    assert dm01.exit_code == 0, dm01.output
    assert list(pd.read_csv(tmp_path / "dm01.csv").columns) == DM01.names
    did = runner.invoke(app, ["report", "did", "--month", MONTH, "--history", str(history_dir),
                              "--out", str(tmp_path / "did.csv")])
    assert did.exit_code == 0, did.output
    assert list(pd.read_csv(tmp_path / "did.csv").columns) == DID.names
    listed = pd.read_csv(tmp_path / "did-exceptions.csv")
    assert (listed.reasons.str.contains("no NHS number")).all()  # a history holds none
    figures = runner.invoke(app, ["report", "figures", "--month", MONTH, "--history",
                                  str(history_dir), "--out", str(tmp_path / "figures")])
    assert figures.exit_code == 0, figures.output
    assert (tmp_path / "figures" / f"waiting_list-{MONTH}.csv").exists()


@pytest.mark.parametrize(("arguments", "message"), [
    (["--month", "2024-4"], "is not a month as YYYY-MM"),
    (["--month", "2024-04", "--history", "/no/such/folder"], "file not found"),
])
def test_report_command_refuses_bad_arguments_naming_them(history_dir: Path,
                                                          arguments: list[str],
                                                          message: str) -> None:
    if "--history" not in arguments:
        arguments = [*arguments, "--history", str(history_dir)]
    result = CliRunner().invoke(app, ["report", "dm01", *arguments])
    assert result.exit_code == 2
    assert message in result.output

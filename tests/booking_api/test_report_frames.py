"""The reporting engine's inputs read from the service's tables (SQLite and PostgreSQL), and
the figures and returns computed from them, against the October counted by hand in
`report_world` (a cancelled and rebooked appointment, a DNA after the clock change, a request
sent back to vetting)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from booking_api.reports.service_frames import service_inputs
from cdip_cli.main import app
from domain.lifecycle import RequestState
from reporting import Month, did_return, dm01_return, month_figures, prepare
from reporting.attendance import attendance
from reporting.inputs import check_inputs
from reporting.turnaround import intervals
from reporting.waiting_list import waiting_list
from tests.booking_api.report_world import OctoberIds, build_october

OCTOBER = Month.parse("2026-10")
WINDOW = (OCTOBER.start_ns, OCTOBER.end_ns)
DAY_NS = 86_400 * 10**9
HOUR = 1 / 24
S = RequestState


@pytest.fixture
def october(engine: Engine) -> OctoberIds:
    return build_october(engine)


def _days(found) -> list[float]:
    return [float(d) / DAY_NS for d in (found.end - found.start)]


def test_the_frames_read_from_the_service_pass_the_engines_checks(
        engine: Engine, october: OctoberIds) -> None:
    check_inputs(service_inputs(engine))


def test_only_appointments_that_were_booked_are_read_not_a_hold_let_go(
        engine: Engine, october: OctoberIds) -> None:
    read = service_inputs(engine).appointments
    assert sorted(read.appointment_id) == sorted(
        [october.cancelled, october.rebooked, october.missed])


def test_a_rebooking_replaces_the_cancelled_appointment_which_the_patient_cancelled(
        engine: Engine, october: OctoberIds) -> None:
    read = service_inputs(engine).appointments.set_index("appointment_id")
    assert read.replaces_appointment_id[october.rebooked] == october.cancelled
    assert read.cancelled_by[october.cancelled] == "patient"
    assert pd.isna(read.replaces_appointment_id[october.missed])
    assert read.cancelled_at[october.cancelled] == pd.Timestamp("2026-10-05 10:00", tz="UTC")


def test_a_session_offers_its_slots_minutes_less_blocked_ones_and_cancelled_sessions_none(
        engine: Engine, october: OctoberIds) -> None:
    sessions = service_inputs(engine).sessions
    assert list(sessions.session_id) == list(october.sessions)
    assert list(sessions.minutes) == [20, 20, 20]
    first = sessions.iloc[0]
    assert (first.start_at, first.end_at) == (pd.Timestamp("2026-10-09 09:00", tz="UTC"),
                                              pd.Timestamp("2026-10-09 09:20", tz="UTC"))


def test_a_request_takes_the_trust_of_its_appointment_and_an_unknown_area_of_its_ics(
        engine: Engine, october: OctoberIds) -> None:
    inputs = service_inputs(engine)
    requests = inputs.requests.set_index("request_id")
    assert requests.trust_id[october.request_a] == "RTS"
    assert requests.area_id[october.request_a] == "B15"
    assert requests.area_id[october.request_b] == "unknown-ICS1"
    assert "unknown-ICS1" in set(inputs.areas.area_id)


def test_referral_to_test_is_counted_from_the_first_receipt_through_the_rebooking(
        engine: Engine, october: OctoberIds) -> None:
    record = prepare(service_inputs(engine))
    found = intervals(record, S.RECEIVED, S.ATTENDED, WINDOW)
    assert _days(found) == [pytest.approx(19 + HOUR)]  # 1 Oct 09:00 to 20 Oct 10:00


def test_booked_to_dna_across_the_clock_change_is_elapsed_time(
        engine: Engine, october: OctoberIds) -> None:
    record = prepare(service_inputs(engine))
    found = intervals(record, S.APPOINTED, S.DNA, WINDOW)
    assert _days(found) == [pytest.approx(14 + HOUR)]  # 13 Oct 09:00 BST to 27 Oct 09:00 GMT


def test_a_request_sent_back_to_vetting_counts_each_pass_when_counting_latest(
        engine: Engine, october: OctoberIds) -> None:
    inputs = service_inputs(engine)
    found = intervals(prepare(inputs), S.JUSTIFIED, S.APPOINTABLE, WINDOW, counting="latest")
    position = list(inputs.requests.request_id).index(october.request_c)  # rows by position
    passes = [d for r, d in zip(found.request, _days(found), strict=True) if r == position]
    assert sorted(passes) == [pytest.approx(23 * HOUR), pytest.approx(1.0)]


def test_the_dm01_census_counts_the_request_still_waiting_from_its_dna(
        engine: Engine, october: OctoberIds) -> None:
    record = prepare(service_inputs(engine))
    reset = waiting_list(record, OCTOBER.last_day, reset_clock=True)
    assert list(reset.weeks_waited) == [0]  # clock restarted at the DNA on 27 Oct
    kept = waiting_list(record, OCTOBER.last_day, reset_clock=False)
    assert list(kept.weeks_waited) == [3]  # 10 Oct to 31 Oct: 21 days
    returned = dm01_return(record, OCTOBER).rows.iloc[0]
    assert (returned["Provider Org Code"], returned["Total Waiting List"],
            returned["0 <01 Week"]) == ("RTS", 1, 1)


def test_dna_and_cancellation_rates_count_octobers_appointments(
        engine: Engine, october: OctoberIds) -> None:
    rates = attendance(prepare(service_inputs(engine)), WINDOW)
    network = rates[rates.by == "network"].iloc[0]
    assert (network.appointments, network.attended, network.dna, network.cancelled) == (3, 1, 1, 1)
    assert network.dna_rate == pytest.approx(0.5)
    assert network.patient_cancellation_rate == pytest.approx(1 / 3)
    assert network.rebooked_share == pytest.approx(0.5)


def test_an_examination_the_did_cannot_report_is_listed_with_its_reasons(
        engine: Engine, october: OctoberIds) -> None:
    returned = did_return(prepare(service_inputs(engine)), OCTOBER)
    assert list(returned.exceptions.appointment_id) == [october.rebooked]
    assert "no patient source setting" in returned.exceptions.reasons.iloc[0]


def test_utilisation_divides_booked_minutes_by_offered_session_minutes(
        engine: Engine, october: OctoberIds) -> None:
    figures = month_figures(prepare(service_inputs(engine)), OCTOBER)
    network = figures.modality_utilisation.iloc[0]
    assert (network.session_minutes, network.booked_minutes) == (60, 20)


def test_an_empty_service_gives_frames_that_pass_the_checks(engine: Engine) -> None:
    check_inputs(service_inputs(engine))


def test_cdip_report_dm01_reads_the_service_database(
        migrated_url: str, october: OctoberIds, tmp_path: Path) -> None:
    out = tmp_path / "dm01.csv"
    result = CliRunner().invoke(app, ["report", "dm01", "--month", "2026-10",
                                      "--database-url", migrated_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out)
    assert list(rows["Total Waiting List"]) == [1]

"""The synthetic history generator: volumes, waits, calendar, DNA behaviour and its truth, read
back through `domain.history.read_history` exactly as a model would see them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from cdip_cli.main import app
from domain.exams import exam_catalogue
from domain.history import History, read_history
from domain.network import load_reference_network
from domain.vocabulary import ExamFamily
from simulations.synthetic_history import (
    HistorySettings,
    HistorySettingsError,
    SyntheticHistory,
    generate_history,
    write_history,
)
from simulations.synthetic_history.calendar_effects import build_calendar
from simulations.synthetic_history.demand import FAMILIES, expected_daily_demand

SCALE, WEEKS = 0.05, 40


def _generate(folder: Path, weeks: int, seed: int, scale: float) -> SyntheticHistory:
    generated = generate_history(load_reference_network(), list(exam_catalogue().values()),
                                 HistorySettings(weeks=weeks, seed=seed, scale=scale))
    write_history(generated, folder)
    return generated


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticHistory, History]:
    folder = tmp_path_factory.mktemp("history")
    made = _generate(folder, WEEKS, seed=11, scale=SCALE)
    return made, read_history(folder)


@pytest.fixture(scope="module")
def history(generated: tuple[SyntheticHistory, History]) -> History:
    return generated[1]


@pytest.fixture(scope="module")
def went_ahead(history: History) -> pd.DataFrame:
    """Appointments that were not cancelled, with prior DNAs rebuilt from the files."""
    appointments = _with_prior_dnas(history.appointments)
    appointments = appointments.merge(history.patients[["patient_id", "imd_decile"]],
                                      on="patient_id")
    return appointments[appointments.outcome.isin(["attended", "dna"])]


def _with_prior_dnas(appointments: pd.DataFrame) -> pd.DataFrame:
    """Prior DNAs as a model must build them: the patient's DNAs at strictly earlier starts."""
    ordered = appointments.sort_values(["patient_id", "start"], kind="stable").copy()
    dna = (ordered.outcome == "dna").astype(int)
    before = dna.groupby(ordered.patient_id).cumsum() - dna
    ordered["prior_dna"] = before.groupby([ordered.patient_id, ordered.start]).transform("min")
    return ordered


def _dna_rate(frame: pd.DataFrame) -> float:
    return float((frame.outcome == "dna").mean())


def test_same_seed_writes_identical_files_and_another_seed_different(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        _generate(tmp_path / name, weeks=6, seed=seed, scale=0.01)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    assert len(files) == 6
    for file in files:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert (tmp_path / "a" / "requests.csv").read_bytes() != (
        tmp_path / "c" / "requests.csv").read_bytes()


def test_weekly_volume_is_90000_times_the_scale(history: History) -> None:
    per_week = len(history.requests) / WEEKS
    assert 0.85 * 90_000 * SCALE < per_week < 1.15 * 90_000 * SCALE


def test_modality_mix_puts_xray_first_then_ultrasound_ct_mri(history: History) -> None:
    share = history.requests.modality.value_counts(normalize=True)
    for modality, expected in (("XR", 0.45), ("US", 0.33), ("CT", 0.14), ("MR", 0.08)):
        assert share[modality] == pytest.approx(expected, abs=0.03)


def test_weekends_receive_far_fewer_requests(history: History) -> None:
    weekday = history.requests.received_date.dt.day_of_week
    per_day = weekday.value_counts()
    assert per_day[[5, 6]].max() < 0.4 * per_day[[0, 1, 2, 3, 4]].min()


def test_expected_demand_is_the_mean_the_requests_were_drawn_from(history: History) -> None:
    expected = history.truth.expected_demand.expected.sum()
    assert len(history.requests) == pytest.approx(expected, rel=0.03)
    by_family = history.truth.expected_demand.groupby("exam_family").expected.sum()
    drawn = history.requests.exam_family.value_counts()
    assert drawn[ExamFamily.MR_NEURO.value] == pytest.approx(by_family["MR_NEURO"], rel=0.1)


def test_chest_xray_demand_peaks_in_winter_and_dips_in_august_and_at_christmas() -> None:
    network, exams = load_reference_network(), list(exam_catalogue().values())
    calendar = build_calendar(date(2024, 4, 1), 52)
    daily = expected_daily_demand(network, exams, calendar, 1.0).sum(axis=2)
    days = pd.DatetimeIndex(calendar.dates[:calendar.history_days])
    xray = pd.Series(daily[:, FAMILIES.index(ExamFamily.XR_PLAIN)], index=days)
    mri = pd.Series(daily[:, FAMILIES.index(ExamFamily.MR_MSK)], index=days)
    assert xray["2025-01-13":"2025-01-19"].sum() > 1.15 * xray["2024-07-08":"2024-07-14"].sum()
    assert mri["2024-08-05":"2024-08-11"].sum() < 0.95 * mri["2024-07-08":"2024-07-14"].sum()
    assert mri["2024-12-23":"2024-12-29"].sum() < 0.6 * mri["2024-12-02":"2024-12-08"].sum()
    assert mri["2024-08-26"] < 0.2 * mri["2024-08-19"]  # late summer bank holiday Monday


def test_demand_grows_about_four_percent_a_year() -> None:
    network, exams = load_reference_network(), list(exam_catalogue().values())
    daily = expected_daily_demand(network, exams, build_calendar(date(2024, 4, 1), 104), 1.0)
    first, second = daily[:364].sum(), daily[364:728].sum()
    assert second / first == pytest.approx(1.04, abs=0.01)


def test_overall_dna_rate_is_between_3_and_8_percent(history: History) -> None:
    assert 0.03 < _dna_rate(history.appointments) < 0.08


def test_oracle_auc_of_true_probabilities_is_between_070_and_080(history: History) -> None:
    joined = history.appointments.merge(history.truth.dna_probability, on="appointment_id")
    ahead = joined[joined.outcome.isin(["attended", "dna"])]
    assert 0.70 < roc_auc_score(ahead.outcome == "dna", ahead.p_dna) < 0.80


def test_dna_rate_is_higher_for_long_lead_times(went_ahead: pd.DataFrame) -> None:
    short = went_ahead[went_ahead.lead_time_days.between(1, 7)]
    long = went_ahead[went_ahead.lead_time_days >= 28]
    assert _dna_rate(long) > 1.5 * _dna_rate(short)


def test_dna_rate_is_higher_after_a_previous_dna(went_ahead: pd.DataFrame) -> None:
    booked = went_ahead[went_ahead.lead_time_days > 0]
    assert _dna_rate(booked[booked.prior_dna >= 1]) > 2 * _dna_rate(booked[booked.prior_dna == 0])


def test_dna_rate_is_highest_in_the_most_deprived_decile(went_ahead: pd.DataFrame) -> None:
    booked = went_ahead[went_ahead.lead_time_days > 0]
    most, least = booked[booked.imd_decile == 1], booked[booked.imd_decile >= 8]
    assert _dna_rate(most) > 1.3 * _dna_rate(least)


def test_sms_reminder_lowers_the_dna_rate(went_ahead: pd.DataFrame) -> None:
    similar = went_ahead[went_ahead.lead_time_days.between(7, 30)
                         & (went_ahead.booking_channel == "clerk")]
    with_sms, without = similar[similar.sms_reminder], similar[~similar.sms_reminder]
    assert _dna_rate(with_sms) < 0.92 * _dna_rate(without)


def test_prior_dnas_the_generator_used_are_those_a_model_rebuilds_from_the_files(
        generated: tuple[SyntheticHistory, History]) -> None:
    made, history = generated
    rebuilt = _with_prior_dnas(history.appointments).sort_values("appointment_id")
    assert np.array_equal(rebuilt.prior_dna.to_numpy(), made.appointments.prior_dna)


def test_median_waits_run_from_same_day_xray_to_three_weeks_for_mri(history: History) -> None:
    first = history.appointments.sort_values("start").drop_duplicates("request_id")
    joined = first.merge(history.requests[["request_id", "received_date"]], on="request_id")
    wait = (joined.start.dt.normalize() - joined.received_date).dt.days
    median = wait.groupby(joined.modality).median()
    assert median["XR"] <= 1
    assert median["XR"] < min(median["US"], median["CT"])
    assert max(median["US"], median["CT"]) < median["MR"]
    assert 7 <= median["US"] <= 17 and 7 <= median["CT"] <= 17
    assert median["MR"] == pytest.approx(21, abs=7)


def test_no_routine_or_planned_appointment_falls_on_a_bank_holiday(history: History) -> None:
    joined = history.appointments.merge(history.requests[["request_id", "priority"]],
                                        on="request_id")
    holidays = pd.to_datetime(["2024-05-06", "2024-05-27", "2024-08-26", "2024-12-25"])
    on_holiday = joined[joined.start.dt.normalize().isin(holidays)]
    assert len(on_holiday) > 0  # urgent work still happens, so the check means something
    assert set(on_holiday.priority) <= {"urgent", "two_week_wait"}


def test_cancelled_and_missed_appointments_are_rebooked_later(history: History) -> None:
    appointments = history.appointments.sort_values("start")
    per_request = appointments.groupby("request_id")
    first_outcome = per_request.outcome.first()
    count = per_request.size()
    cancelled = first_outcome.str.startswith("cancelled")
    assert 0.01 < cancelled.mean() < 0.08
    assert (count[cancelled] >= 2).mean() > 0.9
    assert (count[first_outcome == "attended"] == 1).all()


def test_patients_come_back_with_heavy_tailed_visit_counts(history: History) -> None:
    visits = history.requests.patient_id.value_counts()
    assert visits.median() <= 2
    assert visits.max() >= 10


def test_start_that_is_not_a_monday_is_refused() -> None:
    with pytest.raises(HistorySettingsError, match="Monday"):
        generate_history(load_reference_network(), list(exam_catalogue().values()),
                         HistorySettings(weeks=2, seed=1, start=date(2024, 4, 2)))


def test_cli_generates_a_history_that_checks_clean(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "history"
    made = runner.invoke(app, ["history", "generate", "--weeks", "3", "--seed", "5",
                               "--scale", "0.01", "--out", str(out)])
    assert made.exit_code == 0, made.output
    checked = runner.invoke(app, ["history", "check", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "OK" in checked.output
    again = runner.invoke(app, ["history", "generate", "--weeks", "3", "--out", str(out)])
    assert again.exit_code == 2

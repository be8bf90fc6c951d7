"""Planning from what the service knows: a trust's export imported as weekly counts (checked by
row and field, a later import replacing its weeks), and the diary demand forecast from it plus
the appointable requests waiting, each in the week its breach date requires."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.diary.demand import DemandSourceError, planned_demand, read_service_history
from booking_api.diary.history import read_weekly_history, store_weekly_history
from booking_api.diary.models import HistoryDemand, HistoryImport
from domain.data_files import DataFileError
from domain.vocabulary import AgeBand, ExamFamily, Priority

ACTOR = Actor("cli:test", Channel.SYSTEM)
FIRST_MONDAY = date(2026, 8, 31)
WEEKS = 12  # whole weeks to 2026-11-16
LONDON = __import__("zoneinfo").ZoneInfo("Europe/London")


def write_export(folder: Path, weeks: int = WEEKS, per_day: int = 3,
                 bad_area_row: int | None = None) -> Path:
    """A small export: each weekday `per_day` chest X-rays from B15 and one from B23; one
    patient a child."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "patients.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["patient_id", "birth_year", "sex", "area_id", "imd_decile"])
        writer.writerow(["P1", 1960, "F", "B15", 5])
        writer.writerow(["P2", 2018, "M", "B23", 2])
    rows = []
    for day in range(weeks * 7):
        received = FIRST_MONDAY + timedelta(days=day)
        if received.weekday() >= 5:
            continue
        for _ in range(per_day):
            rows.append(("P1", received, "B15"))
        rows.append(("P2", received, "B23"))
    with open(folder / "requests.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["request_id", "patient_id", "received_date", "exam_code",
                         "exam_family", "modality", "priority", "area_id", "due_date"])
        for number, (patient, received, area) in enumerate(rows):
            if bad_area_row is not None and number + 2 == bad_area_row:
                area = "ZZ9"
            writer.writerow([f"R{number}", patient, received.isoformat(), "XCHES", "XR_PLAIN",
                             "XR", "routine", area, ""])
    with open(folder / "appointments.csv", "w", newline="") as file:
        csv.writer(file).writerow([
            "appointment_id", "request_id", "patient_id", "site_id", "modality",
            "booked_date", "start", "lead_time_days", "age_years", "distance_km",
            "booking_channel", "sms_reminder", "outcome"])
    return folder


def test_import_keeps_weekly_counts_and_a_later_import_replaces_its_weeks(
        engine, tiny_network, tmp_path):
    weekly = read_weekly_history(write_export(tmp_path / "a"), tiny_network)
    with transaction(engine) as session:
        store_weekly_history(session, ACTOR, weekly)
    again = read_weekly_history(write_export(tmp_path / "b", per_day=2), tiny_network)
    with transaction(engine) as session:
        store_weekly_history(session, ACTOR, again)
        total = session.scalar(select(func.sum(HistoryDemand.requests)))
        imports = session.scalar(select(func.count()).select_from(HistoryImport))
        children = session.scalar(select(func.sum(HistoryDemand.requests)).where(
            HistoryDemand.age_band == AgeBand.CHILD))
    assert weekly.requests == WEEKS * 5 * 4
    assert (weekly.first_week, weekly.last_week) == (FIRST_MONDAY,
                                                     FIRST_MONDAY + timedelta(weeks=WEEKS - 1))
    assert total == WEEKS * 5 * 3  # the second export's counts, not both
    assert children == WEEKS * 5
    assert imports == 2


def test_a_bad_export_names_file_row_and_field_and_stores_nothing(engine, tiny_network,
                                                                  tmp_path):
    with pytest.raises(DataFileError) as caught:
        read_weekly_history(write_export(tmp_path, bad_area_row=7), tiny_network)
    assert caught.value.row == 7 and caught.value.field == "area_id"
    assert "requests.csv" in str(caught.value) and "ZZ9" in str(caught.value)
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(HistoryDemand)) == 0


def test_waiting_requests_are_planned_in_the_week_their_breach_date_requires(
        one_slot, engine, tiny_network, tmp_path):
    """The two appointable requests received on 2 Nov 2026 (routine) breach on 14 Dec: they
    are demand in that week and in no other."""
    with transaction(engine) as session:
        store_weekly_history(session, ACTOR,
                             read_weekly_history(write_export(tmp_path), tiny_network))
        history = read_service_history(session, LONDON, date(2026, 11, 25))
    assert len(history.waiting) == 2
    first = date(2026, 11, 23)
    with_waiting = planned_demand(history, first, 4)
    without = planned_demand(replace(history, waiting=()), first, 4)

    def routine_b15(demand, monday):
        return sum(row.expected_count for row in demand.rows(monday)
                   if (row.family, row.area_id, row.priority, row.age_band)
                   == (ExamFamily.XR_PLAIN, "B15", Priority.ROUTINE, AgeBand.ADULT))

    added = {monday: routine_b15(with_waiting, monday) - routine_b15(without, monday)
             for monday in (first + timedelta(weeks=w) for w in range(4))}
    assert added == pytest.approx({date(2026, 11, 23): 0, date(2026, 11, 30): 0,
                                   date(2026, 12, 7): 0, date(2026, 12, 14): 2})
    assert 10 < routine_b15(without, first) < 20  # about 15 a week came in the history


def test_planning_without_a_history_says_how_to_import_one(engine):
    with transaction(engine) as session:
        history = read_service_history(session, LONDON, date(2026, 11, 25))
    with pytest.raises(DemandSourceError, match="cdip history import"):
        planned_demand(history, date(2026, 11, 30), 1)


def test_planning_beyond_the_forecast_horizon_is_refused(engine, tiny_network, tmp_path):
    with transaction(engine) as session:
        store_weekly_history(session, ACTOR,
                             read_weekly_history(write_export(tmp_path), tiny_network))
        history = read_service_history(session, LONDON, date(2027, 6, 1))
    with pytest.raises(DemandSourceError, match="import a recent export"):
        planned_demand(history, date(2027, 6, 7), 1)


def test_the_services_own_requests_count_in_whole_weeks_after_the_import(one_slot, engine):
    """Two requests received on Monday 2 November: a whole week before 25 November's week."""
    with transaction(engine) as session:
        history = read_service_history(session, LONDON, date(2026, 11, 25))
        this_week = read_service_history(session, LONDON, date(2026, 11, 3))
    assert history.own_weeks == 1 and history.imported_weeks == 0
    assert history.counts["requests"].sum() == 2
    assert set(history.counts["week_start"]) == {date(2026, 11, 2)}
    assert this_week.counts.empty  # the current week is not whole yet

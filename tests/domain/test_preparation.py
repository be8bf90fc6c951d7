"""Preparation facts: every exam has an arrival time (or is phoned one), every MRI exam gets
the MRI safety advice, every contrast exam the contrast advice; a bad arrival file is refused
naming the row and field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.data_files import DataFileError
from domain.exams import exam_catalogue
from domain.preparation import (
    CONTRAST_ADVICE,
    DEFAULT_ARRIVE_MINUTES_EARLY,
    MRI_SAFETY_ADVICE,
    arrival_minutes,
    load_arrival_minutes,
    preparation_for,
)
from domain.vocabulary import Modality

EXAMS = exam_catalogue()


def test_every_exam_has_exactly_one_arrival_row() -> None:
    assert set(arrival_minutes()) == set(EXAMS)


@pytest.mark.parametrize("code", sorted(EXAMS))
def test_preparation_carries_the_catalogue_text_and_its_facts(code: str) -> None:
    exam = EXAMS[code]
    preparation = preparation_for(exam)
    assert preparation.instructions == exam.preparation
    assert preparation.fasting_hours == exam.fasting_hours
    assert preparation.full_bladder == exam.full_bladder
    assert preparation.mri_safety == (exam.modality is Modality.MR)
    texts = [note.text for note in preparation.safety_notes]
    assert (MRI_SAFETY_ADVICE in texts) == (exam.modality is Modality.MR)
    assert (CONTRAST_ADVICE in texts) == exam.contrast


def test_exams_whose_text_says_arrive_an_hour_early_have_sixty_minutes() -> None:
    early = {code for code, exam in EXAMS.items() if "arrive 1 hour early" in exam.preparation}
    assert early and all(arrival_minutes()[code] == 60 for code in early)


def test_the_arrival_time_is_before_the_start() -> None:
    preparation = preparation_for(EXAMS["CCAPC"])
    start = datetime(2026, 7, 14, 8, 30, tzinfo=UTC)
    assert preparation.arrival_time(start) == datetime(2026, 7, 14, 7, 30, tzinfo=UTC)


def test_a_sedation_list_has_no_arrival_time_the_ward_phones() -> None:
    assert preparation_for(EXAMS["MPBRS"]).arrival_time(datetime.now(UTC)) is None


def test_an_exam_missing_from_the_arrival_file_arrives_a_default_time_early() -> None:
    exam = replace(EXAMS["MKNEE"], code="LOCAL1")
    assert preparation_for(exam).arrive_minutes_early == DEFAULT_ARRIVE_MINUTES_EARLY


def _write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "arrival.csv"
    path.write_text("code,arrive_minutes_early\n" + "".join(row + "\n" for row in rows))
    return path


def _all_rows(**changes: str) -> list[str]:
    rows = {code: f"{code},15" for code in EXAMS}
    rows.update(changes)
    return list(rows.values())


@pytest.mark.parametrize(("rows", "row", "field", "problem"), [
    ([*_all_rows(), "NOPE1,10"], len(EXAMS) + 2, "code", "not an exam code"),
    ([*_all_rows(), "XCHES,10"], len(EXAMS) + 2, "code", "duplicate"),
    (_all_rows(XCHES="XCHES,ten"), 2, "arrive_minutes_early", "not a whole number"),
    (_all_rows(XCHES="XCHES,-5"), 2, "arrive_minutes_early", "negative"),
    (_all_rows(XCHES="XCHES,500"), 2, "arrive_minutes_early", "more than the 180"),
])
def test_a_bad_arrival_file_is_refused_naming_row_and_field(tmp_path: Path, rows: list[str],
                                                            row: int, field: str,
                                                            problem: str) -> None:
    with pytest.raises(DataFileError) as caught:
        load_arrival_minutes(_write(tmp_path, rows))
    assert (caught.value.row, caught.value.field) == (row, field)
    assert problem in caught.value.problem


def test_an_arrival_file_missing_an_exam_names_it(tmp_path: Path) -> None:
    rows = [row for row in _all_rows() if not row.startswith("MKNEE,")]
    with pytest.raises(DataFileError) as caught:
        load_arrival_minutes(_write(tmp_path, rows))
    assert "MKNEE" in caught.value.problem

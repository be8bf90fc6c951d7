"""The national codes of the catalogue's exams: every shipped code is a well-formed SNOMED CT
identifier with a source, and a bad copy is refused naming the row and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.data_files import DataFileError
from domain.exam_coding import exam_coding, is_snomed_ct_identifier, load_exam_coding
from domain.exams import exam_catalogue

HEADER = "code,snomed_ct_code,snomed_ct_term,nicip_code,source\n"


def test_every_exam_of_the_catalogue_has_a_coding_row() -> None:
    assert set(exam_coding()) == set(exam_catalogue())


def test_shipped_codes_pass_the_check_digit_and_name_their_source() -> None:
    coded = [entry for entry in exam_coding().values() if entry.snomed_ct_code]
    assert len(coded) >= 40
    assert all(is_snomed_ct_identifier(entry.snomed_ct_code) for entry in coded)
    assert all(entry.source == "BE-DI-VS" for entry in coded)


@pytest.mark.parametrize(("value", "valid"), [
    ("399208008", True),  # Plain X-ray of chest
    ("431623007", True),  # Ultrasonography of cervical spine (NHS England example)
    ("399208007", False),  # wrong check digit
    ("75385009", False),  # listed in a published value set, but fails the check digit
    ("0399208008", False),  # leading zero
    ("12345", False),  # too short
])
def test_snomed_ct_identifiers_are_checked(value: str, valid: bool) -> None:
    assert is_snomed_ct_identifier(value) is valid


@pytest.mark.parametrize(("row", "field", "problem"), [
    ("XCHES,399208007,Plain X-ray of chest,,BE-DI-VS", "snomed_ct_code", "not a valid SNOMED"),
    ("XCHES,399208008,,,BE-DI-VS", "snomed_ct_term", "needs its term"),
    ("XCHES,,,XCHE1,BE-DI-VS", "nicip_code", "is not a NICIP code"),
    ("XCHES,399208008,Plain X-ray of chest,,", "source", "a code needs a source"),
    ("XNOPE,,,,", "code", "is not an exam of the catalogue"),
])
def test_a_bad_row_is_refused_naming_row_and_field(tmp_path: Path, row: str, field: str,
                                                   problem: str) -> None:
    path = tmp_path / "exam_coding.csv"
    path.write_text(HEADER + row + "\n")
    with pytest.raises(DataFileError) as raised:
        load_exam_coding(path, exam_codes={"XCHES"})
    assert (raised.value.row, raised.value.field) == (2, field)
    assert problem in raised.value.problem


def test_an_exam_without_a_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "exam_coding.csv"
    path.write_text(HEADER + "XCHES,,,,\n")
    with pytest.raises(DataFileError, match="no row for exam"):
        load_exam_coding(path, exam_codes={"XCHES", "XKNEE"})

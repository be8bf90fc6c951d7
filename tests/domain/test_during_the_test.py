"""The catalogue's plain-English "what happens during the test" (issue 17, item 11): one
description per exam family, refused whole when a family is missing or repeated."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.data_files import DataFileError
from domain.during_the_test import during_the_test, load_during_the_test
from domain.vocabulary import ExamFamily


def test_every_exam_family_has_a_description() -> None:
    assert set(during_the_test()) == set(ExamFamily)


def test_contrast_ct_says_why_the_patient_arrives_early() -> None:
    assert "arrive early" in during_the_test()[ExamFamily.CT_CONTRAST]


def test_a_missing_family_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "during.csv"
    path.write_text("family,what_happens\nXR_PLAIN,You stand still.\n")
    with pytest.raises(DataFileError, match="no description for CT_CARDIAC"):
        load_during_the_test(path)


def test_an_unknown_family_is_refused_naming_the_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "during.csv"
    path.write_text("family,what_happens\nPET_CT,You lie still.\n")
    with pytest.raises(DataFileError) as refused:
        load_during_the_test(path)
    assert (refused.value.row, refused.value.field) == (2, "family")

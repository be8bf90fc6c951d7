"""National codes of the catalogue's exams: SNOMED CT and NICIP, which the Diagnostic Imaging
Dataset asks for (one of the two per examination). Read from `catalogue/exam_coding.csv`; a
blank code means "not yet coded", never a made-up one. Kept apart from `exams.csv` so the
exam type itself (and every table mirroring it) stays as it is."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from domain.data_files import Column, DataFileError, read_table, text
from domain.exams import CATALOGUE_DIR, exam_catalogue

CODING_SOURCES = {
    "BE-DI-VS": "SNOMED CT International concept as listed in the value set "
                "https://www.ehealth.fgov.be/standards/fhir/terminology/ValueSet/"
                "be-vs-diagnostic-imaging-procedure (source: github.com/hl7-be/referral-uhmep, "
                "input/fsh/valuesets/radiology/BeVSDiagnosticImagingProcedure.fsh)",
}
"""Where each code was taken from; `source` cells name one of these keys."""

_NICIP_PATTERN = re.compile(r"[A-Z]{5,6}")

# Verhoeff's dihedral-group tables: SNOMED CT identifiers end in a Verhoeff check digit.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 7, 6, 8, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


@dataclass(frozen=True)
class ExamCoding:
    code: str
    snomed_ct_code: str | None
    snomed_ct_term: str | None
    nicip_code: str | None
    source: str | None


def is_snomed_ct_identifier(value: str) -> bool:
    """Whether `value` is shaped like a SNOMED CT concept id: 6-18 digits, no leading zero,
    a concept partition, and a valid Verhoeff check digit (catches most typing mistakes)."""
    if not (6 <= len(value) <= 18 and value.isdigit() and value[0] != "0"):
        return False
    if value[-3:-1] not in ("00", "10"):  # "00" core concept, "10" extension concept
        return False
    check = 0
    for position, digit in enumerate(reversed(value)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


def load_exam_coding(path: Path = CATALOGUE_DIR / "exam_coding.csv",
                     exam_codes: Collection[str] | None = None) -> dict[str, ExamCoding]:
    """Codes by exam; every exam of the catalogue must have a row (blank codes allowed)."""
    exam_codes = set(exam_catalogue()) if exam_codes is None else set(exam_codes)
    columns = [Column("code", text), Column("snomed_ct_code", text, required=False),
               Column("snomed_ct_term", text, required=False),
               Column("nicip_code", text, required=False),
               Column("source", text, required=False)]
    coding: dict[str, ExamCoding] = {}
    for row_number, row in enumerate(read_table(path, columns), start=2):
        entry = ExamCoding(**row)
        _check_row(path, row_number, entry, exam_codes)
        if entry.code in coding:
            raise DataFileError(path, f"exam '{entry.code}' appears twice", row_number, "code")
        coding[entry.code] = entry
    missing = sorted(exam_codes - set(coding))
    if missing:
        raise DataFileError(path, f"no row for exam(s) {', '.join(missing)}")
    return coding


@cache
def exam_coding() -> dict[str, ExamCoding]:
    """The shipped codes, read once per process."""
    return load_exam_coding()


def _check_row(path: Path, row: int, entry: ExamCoding, exam_codes: set[str]) -> None:
    if entry.code not in exam_codes:
        raise DataFileError(path, f"'{entry.code}' is not an exam of the catalogue", row, "code")
    if entry.snomed_ct_code is not None and not is_snomed_ct_identifier(entry.snomed_ct_code):
        raise DataFileError(path, f"'{entry.snomed_ct_code}' is not a valid SNOMED CT "
                                  "identifier (check digit or shape)", row, "snomed_ct_code")
    if (entry.snomed_ct_code is None) != (entry.snomed_ct_term is None):
        raise DataFileError(path, "a SNOMED CT code needs its term and a term its code",
                            row, "snomed_ct_term")
    if entry.nicip_code is not None and not _NICIP_PATTERN.fullmatch(entry.nicip_code):
        raise DataFileError(path, f"'{entry.nicip_code}' is not a NICIP code (5-6 capital "
                                  "letters)", row, "nicip_code")
    coded = entry.snomed_ct_code is not None or entry.nicip_code is not None
    if coded and entry.source not in CODING_SOURCES:
        known = ", ".join(sorted(CODING_SOURCES))
        raise DataFileError(path, f"a code needs a source, one of {known}", row, "source")

"""The exam catalogue: every examination the network books, with what it needs of a room,
of staff and of the patient. Read from `catalogue/exams.csv`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from domain.data_files import (
    Column,
    DataFileError,
    boolean,
    list_of,
    non_negative_integer,
    number,
    one_of,
    read_table,
    text,
)
from domain.vocabulary import Capability, ExamFamily, Modality

CATALOGUE_DIR = Path(__file__).parent / "catalogue"


@dataclass(frozen=True)
class ExamType:
    code: str
    name: str
    modality: Modality
    family: ExamFamily
    body_part: str
    duration_min: int
    required_capabilities: frozenset[Capability]
    contrast: bool
    radiologist_present: bool
    ionising: bool
    fasting_hours: int
    full_bladder: bool
    bowel_prep: bool
    min_notice_days: int
    preparation: str
    relative_frequency: float

    @property
    def pelvis_or_abdomen(self) -> bool:
        """Whether the exam irradiates the pelvis or abdomen (pregnancy check applies)."""
        return self.ionising and self.body_part in PELVIC_OR_ABDOMINAL_BODY_PARTS


PELVIC_OR_ABDOMINAL_BODY_PARTS = frozenset({
    "abdomen", "pelvis", "abdomen and pelvis", "chest abdomen pelvis", "lumbar spine", "hip",
    "colon", "small bowel", "urinary tract", "upper GI", "heart and aorta",
})
"""Body parts whose ionising exams irradiate the abdomen or pelvis."""


_COLUMNS = [
    Column("code", text), Column("name", text), Column("modality", one_of(Modality)),
    Column("family", one_of(ExamFamily)), Column("body_part", text),
    Column("duration_min", non_negative_integer),
    Column("required_capabilities", list_of(one_of(Capability)), required=False),
    Column("contrast", boolean), Column("radiologist_present", boolean),
    Column("ionising", boolean), Column("fasting_hours", non_negative_integer),
    Column("full_bladder", boolean), Column("bowel_prep", boolean),
    Column("min_notice_days", non_negative_integer), Column("preparation", text),
    Column("relative_frequency", number),
]


def load_exam_catalogue(path: Path = CATALOGUE_DIR / "exams.csv") -> dict[str, ExamType]:
    """Exam types by code; raises DataFileError naming the row on any inconsistency."""
    catalogue: dict[str, ExamType] = {}
    for row_number, row in enumerate(read_table(path, _COLUMNS), start=2):
        exam = ExamType(**{**row, "required_capabilities":
                           frozenset(row["required_capabilities"] or ())})
        if exam.code in catalogue:
            raise DataFileError(path, f"duplicate exam code '{exam.code}'", row_number, "code")
        if exam.family.modality is not exam.modality:
            raise DataFileError(path, f"family {exam.family} is not a {exam.modality} family",
                                row_number, "family")
        if exam.duration_min == 0:
            raise DataFileError(path, "duration must be at least one minute", row_number,
                                "duration_min")
        if not 0 < exam.relative_frequency < float("inf"):
            raise DataFileError(path, "relative frequency must be a number above zero", row_number,
                                "relative_frequency")
        catalogue[exam.code] = exam
    return catalogue


@cache
def exam_catalogue() -> dict[str, ExamType]:
    """The shipped catalogue, read once per process."""
    return load_exam_catalogue()

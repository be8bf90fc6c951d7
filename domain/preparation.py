"""What a patient must do before an exam, as structured facts over the catalogue's wording:
fasting, full bladder, bowel preparation, contrast, MRI safety and when to arrive. Messages and
the portal show these; the catalogue's own `preparation` sentence stays the primary text.

Arrival times live in `catalogue/arrival.csv` (one row per exam code) rather than in
`exams.csv`, so the service's `exam_type` table does not change shape for them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from domain.data_files import Column, DataFileError, non_negative_integer, read_table, text
from domain.exams import CATALOGUE_DIR, ExamType, exam_catalogue
from domain.vocabulary import Modality

MAX_ARRIVE_MINUTES_EARLY = 180
"""An arrival earlier than this is taken for a typing error in the file."""

DEFAULT_ARRIVE_MINUTES_EARLY = 15

MRI_SAFETY_ADVICE = (
    "MRI uses a strong magnet. Tell us before your appointment if you have a pacemaker, "
    "an implant, a metal fragment in your body (for example in your eye) or any other metal "
    "inside you, or if you are or might be pregnant. Do not bring metal objects into the scan "
    "room: you will be asked to remove jewellery, watches and cards.")
"""Said for every MRI exam: the screening questions apply whatever the body part."""

CONTRAST_ADVICE = (
    "You may be given an injection of contrast dye. Tell us before your appointment if you "
    "have diabetes, kidney problems or have had a reaction to contrast dye before.")
"""Said for every exam that uses injected or instilled contrast."""


@dataclass(frozen=True)
class SafetyNote:
    heading: str
    text: str


@dataclass(frozen=True)
class Preparation:
    """Everything a patient is told to do before one exam."""

    exam_code: str
    instructions: str
    """The catalogue's own sentence(s), second person, plain English."""
    fasting_hours: int
    full_bladder: bool
    bowel_prep: bool
    contrast: bool
    mri_safety: bool
    arrive_minutes_early: int | None
    """Minutes before the appointment time to arrive; None: the department phones a time."""

    def arrival_time(self, start: datetime) -> datetime | None:
        """When to arrive for an appointment starting at `start` (None: we will phone)."""
        if self.arrive_minutes_early is None:
            return None
        return start - timedelta(minutes=self.arrive_minutes_early)

    @property
    def safety_notes(self) -> tuple[SafetyNote, ...]:
        """Standard safety paragraphs that apply to this exam (MRI, contrast)."""
        notes = []
        if self.mri_safety:
            notes.append(SafetyNote("MRI safety", MRI_SAFETY_ADVICE))
        if self.contrast:
            notes.append(SafetyNote("Contrast dye", CONTRAST_ADVICE))
        return tuple(notes)


def preparation_for(exam: ExamType, arrivals: Mapping[str, int | None] | None = None
                    ) -> Preparation:
    """The preparation of one exam; `arrivals` defaults to the shipped arrival file (which
    covers the shipped catalogue). An exam missing from it (a trust's own catalogue) is told
    to arrive DEFAULT_ARRIVE_MINUTES_EARLY minutes early."""
    arrivals = arrival_minutes() if arrivals is None else arrivals
    return Preparation(
        exam_code=exam.code, instructions=exam.preparation, fasting_hours=exam.fasting_hours,
        full_bladder=exam.full_bladder, bowel_prep=exam.bowel_prep, contrast=exam.contrast,
        mri_safety=exam.modality is Modality.MR,
        arrive_minutes_early=arrivals.get(exam.code, DEFAULT_ARRIVE_MINUTES_EARLY))


def load_arrival_minutes(path: Path = CATALOGUE_DIR / "arrival.csv",
                         catalogue: Mapping[str, ExamType] | None = None
                         ) -> dict[str, int | None]:
    """Minutes early to arrive, by exam code; every catalogue exam must have exactly one row.
    Raises DataFileError naming the row and field."""
    catalogue = exam_catalogue() if catalogue is None else catalogue
    columns = [Column("code", text),
               Column("arrive_minutes_early", non_negative_integer, required=False)]
    minutes: dict[str, int | None] = {}
    for row_number, row in enumerate(read_table(path, columns), start=2):
        code, early = row["code"], row["arrive_minutes_early"]
        if code not in catalogue:
            raise DataFileError(path, f"'{code}' is not an exam code of the catalogue",
                                row_number, "code")
        if code in minutes:
            raise DataFileError(path, f"duplicate exam code '{code}'", row_number, "code")
        if early is not None and early > MAX_ARRIVE_MINUTES_EARLY:
            raise DataFileError(path, f"{early} minutes is more than the "
                                f"{MAX_ARRIVE_MINUTES_EARLY} allowed", row_number,
                                "arrive_minutes_early")
        minutes[code] = early
    missing = sorted(set(catalogue) - set(minutes))
    if missing:
        raise DataFileError(path, f"no row for exam code(s) {', '.join(missing)}")
    return minutes


@cache
def arrival_minutes() -> dict[str, int | None]:
    """The shipped arrival file, read once per process."""
    return load_arrival_minutes()

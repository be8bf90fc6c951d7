"""What slot eligibility needs to know about one request and its patient, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.exams import ExamType
from domain.vocabulary import Capability, ExamFamily, Modality, Priority
from slot_rules.slot_table import epoch_minutes

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class SlotRequest:
    modality: Modality
    family: ExamFamily
    duration_min: int
    required_capabilities: frozenset[Capability] = frozenset()
    contrast: bool = False
    sedation: bool = False
    exam_needs_radiologist: bool = False
    prep_notice_days: int = 0
    priority: Priority = Priority.ROUTINE
    referral_date: date | None = None
    earliest_date: date | None = None
    latest_date: date | None = None
    age_years: int | None = None
    weight_kg: float | None = None
    needs_step_free: bool = False
    needs_hoist: bool = False
    home_lat: float | None = None
    home_lon: float | None = None
    max_travel_km: float | None = None
    acceptable_sites: frozenset[str] | None = None
    """Site ids the patient will go to; None means any."""

    def __post_init__(self) -> None:
        if self.duration_min <= 0:
            raise ValueError("duration_min must be at least one minute")
        if (self.home_lat is None) != (self.home_lon is None):
            raise ValueError("home_lat and home_lon must both be given or both be absent")
        if self.earliest_date and self.latest_date and self.earliest_date > self.latest_date:
            raise ValueError("earliest_date is after latest_date")

    @classmethod
    def for_exam(cls, exam: ExamType, **patient: object) -> SlotRequest:
        """A request for a catalogue exam; `patient` supplies the remaining fields."""
        return cls(modality=exam.modality, family=exam.family, duration_min=exam.duration_min,
                   required_capabilities=exam.required_capabilities, contrast=exam.contrast,
                   exam_needs_radiologist=exam.radiologist_present,
                   prep_notice_days=exam.min_notice_days, **patient)  # type: ignore[arg-type]

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))


def local_midnight_minutes(day: date) -> int:
    """Epoch minutes of 00:00 Europe/London on a date (clock changes included)."""
    return epoch_minutes(datetime.combine(day, time(0), tzinfo=LONDON))


def local_day_end_minutes(day: date) -> int:
    """Epoch minutes of the first moment after a Europe/London date."""
    return local_midnight_minutes(day + timedelta(days=1))


def local_date(now: datetime) -> date:
    return now.astimezone(LONDON).date()

"""The words every package shares: modalities, capabilities, roles, priorities, periods.

Enum values are the codes used in data files, the database and the API; never rename one.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum


class Modality(StrEnum):
    XR = "XR"
    US = "US"
    CT = "CT"
    MR = "MR"


class Capability(StrEnum):
    """Something a room can do beyond its modality's basics."""

    MR_3T = "MR_3T"
    WIDE_BORE = "WIDE_BORE"
    CARDIAC = "CARDIAC"
    BARIATRIC = "BARIATRIC"
    PAEDIATRIC = "PAEDIATRIC"
    FLUOROSCOPY = "FLUOROSCOPY"
    CONTRAST_INJECTOR = "CONTRAST_INJECTOR"


class StaffRole(StrEnum):
    RADIOGRAPHER = "radiographer"
    SONOGRAPHER = "sonographer"
    RADIOLOGIST = "radiologist"


class Priority(StrEnum):
    """Clinical priority of a request, most urgent first."""

    TWO_WEEK_WAIT = "two_week_wait"
    URGENT = "urgent"
    ROUTINE = "routine"
    PLANNED = "planned"

    @property
    def weight(self) -> int:
        """Relative cost of leaving one exam of this priority unmet (used by the optimiser)."""
        return _PRIORITY_WEIGHT[self]

    @property
    def target_days(self) -> int:
        """Days from request to test that the service aims for."""
        return _PRIORITY_TARGET_DAYS[self]


_PRIORITY_WEIGHT = {
    Priority.TWO_WEEK_WAIT: 8,
    Priority.URGENT: 4,
    Priority.ROUTINE: 2,
    Priority.PLANNED: 1,
}
_PRIORITY_TARGET_DAYS = {
    Priority.TWO_WEEK_WAIT: 14,
    Priority.URGENT: 14,
    Priority.ROUTINE: 42,
    Priority.PLANNED: 42,
}


CHILD_UNDER_YEARS = 16
"""Patients younger than this are children: the age the reference network's children's
hospital takes up to, and the line between the two age bands demand is planned in."""


class AgeBand(StrEnum):
    """Children and adults: demand is planned per band, so a children's hospital (a site with
    an age limit) is planned for children and never for adults."""

    CHILD = "child"
    ADULT = "adult"

    @classmethod
    def of_age(cls, years: int) -> AgeBand:
        return cls.CHILD if years < CHILD_UNDER_YEARS else cls.ADULT


class SiteKind(StrEnum):
    ACUTE = "acute"
    COMMUNITY = "community"
    CDC = "cdc"


class SessionPeriod(StrEnum):
    """The three sessions a room day is divided into; evenings are off-peak."""

    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"

    @property
    def start(self) -> time:
        return _PERIOD_TIMES[self][0]

    @property
    def end(self) -> time:
        return _PERIOD_TIMES[self][1]

    @property
    def minutes(self) -> int:
        start, end = _PERIOD_TIMES[self]
        return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


_PERIOD_TIMES = {
    SessionPeriod.MORNING: (time(8, 0), time(12, 0)),
    SessionPeriod.AFTERNOON: (time(13, 0), time(17, 0)),
    SessionPeriod.EVENING: (time(17, 30), time(21, 30)),
}


class ExamFamily(StrEnum):
    """Groups of exams that share rooms, crews and session templates: the unit of demand."""

    XR_PLAIN = "XR_PLAIN"
    XR_FLUORO = "XR_FLUORO"
    US_ABDO_PELVIS = "US_ABDO_PELVIS"
    US_OBSTETRIC = "US_OBSTETRIC"
    US_MSK = "US_MSK"
    US_VASCULAR = "US_VASCULAR"
    US_PAEDIATRIC = "US_PAEDIATRIC"
    CT_PLAIN = "CT_PLAIN"
    CT_CONTRAST = "CT_CONTRAST"
    CT_CARDIAC = "CT_CARDIAC"
    MR_NEURO = "MR_NEURO"
    MR_MSK = "MR_MSK"
    MR_BODY = "MR_BODY"
    MR_CARDIAC = "MR_CARDIAC"
    MR_PAEDIATRIC = "MR_PAEDIATRIC"

    @property
    def modality(self) -> Modality:
        return Modality(self.value[:2])


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

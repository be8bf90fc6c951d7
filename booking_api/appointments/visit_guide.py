"""Where and when to go for a booked appointment, as the pages show it: the site's full
address, a map link, the department to report to and its phone number, when to arrive (the
catalogue's arrival time for the exam: an hour early for contrast CT), and what happens
during the test (the catalogue's words for the exam family). A read model over frozen values:
no database session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking_api.appointments.read_models import PatientBooking
from domain.during_the_test import during_the_test
from domain.exams import exam_catalogue
from domain.preparation import preparation_for


@dataclass(frozen=True)
class VisitGuide:
    address_lines: tuple[str, ...]
    map_link: str | None
    report_to: str | None
    phone: str | None
    arrive_at: datetime | None
    """None: the department phones a time to arrive (sedation lists)."""
    arrive_minutes_early: int | None
    during_the_test: str | None


def visit_guide(booking: PatientBooking) -> VisitGuide | None:
    """The guide to the booking's appointment (None: nothing booked)."""
    if booking.appointment is None or booking.site is None:
        return None
    site, start = booking.site, booking.appointment.start_at
    exam = exam_catalogue().get(booking.exam.code)
    preparation = preparation_for(exam) if exam is not None else None
    visit = site.visit
    lines = ((site.name, visit.address, visit.town, visit.postcode) if visit
             else (site.name, site.postcode_district))
    return VisitGuide(
        address_lines=lines, map_link=site.map_link,
        report_to=visit.report_to if visit else None, phone=visit.phone if visit else None,
        arrive_at=preparation.arrival_time(start) if preparation else None,
        arrive_minutes_early=preparation.arrive_minutes_early if preparation else None,
        during_the_test=during_the_test().get(exam.family) if exam is not None else None)

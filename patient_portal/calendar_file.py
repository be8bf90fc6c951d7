"""The "add to calendar" file: one VEVENT in Europe/London time with its VTIMEZONE embedded.
The UID belongs to the booking (the request), so a changed appointment replaces the old
event in the patient's calendar; SEQUENCE counts the changes."""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar, Event

from booking_api.network.directory import ExamDetails, SiteDetails
from patient_portal.rendering import LONDON

PRODUCT_ID = "-//CDIP imaging network//Patient portal//EN"


def appointment_calendar(*, request_id: int, sequence: int, reference: str, start: datetime,
                         end: datetime, exam: ExamDetails, site: SiteDetails,
                         host: str, stamp: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{request_id}@{host}")
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", start.astimezone(LONDON))
    event.add("dtend", end.astimezone(LONDON))
    event.add("summary", f"{exam.name} at {site.name}")
    event.add("location", site.name)
    event.add("description", f"Booking reference {reference}. How to prepare: "
                             f"{exam.preparation} Parking: {site.parking}")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()

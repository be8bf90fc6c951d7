"""The email for each event: a subject, a plain-text body, an HTML body in NHS.UK style and,
for a booking, change or cancellation, the calendar invite (REQUEST or CANCEL) it carries.
Unlike a text message, an email may name the test and give its preparation; its subject line
(shown on lock screens) does not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifications.calendar_invite import (
    CalendarAppointment,
    CalendarMethod,
    appointment_calendar,
)
from notifications.events import MessageEvent
from notifications.notice import AppointmentNotice, ServiceDetails
from notifications.rendering import render, template_environment
from notifications.wording import clock_time, long_date

CALENDAR_FILE_NAME = "appointment.ics"


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str
    calendar: bytes | None = None
    """The .ics file, or None for events without an invite."""
    calendar_method: CalendarMethod | None = None


def email_content(event: MessageEvent, notice: AppointmentNotice, service: ServiceDetails,
                  recipient: str, stamp: datetime) -> EmailContent:
    """The email to `recipient` about `event`; `stamp` is when it is made (the invite's
    DTSTAMP)."""
    values = _template_values(notice, service)
    method = event.calendar_method
    calendar = None
    if method is not None:
        calendar = appointment_calendar(calendar_appointment(notice, service, recipient),
                                        method, stamp)
    return render_email(event, values, calendar)


def render_email(event: MessageEvent, values: dict[str, Any],
                 calendar: bytes | None = None) -> EmailContent:
    """The email of `event`'s templates over `values` (with `calendar` attached, if any)."""
    subject = _subject(event, values)
    values = {**values, "subject": subject}
    return EmailContent(
        subject=subject, text=_tidy(render(f"email/{event.value}.txt.j2", values)),
        html=render(f"email/{event.value}.html.j2", values), calendar=calendar,
        calendar_method=event.calendar_method if calendar is not None else None)


def calendar_appointment(notice: AppointmentNotice, service: ServiceDetails,
                         attendee_email: str | None = None) -> CalendarAppointment:
    """The calendar event of `notice`: the exam at the site, with its preparation."""
    venue = notice.venue
    geo = (venue.lat, venue.lon) if venue.lat is not None and venue.lon is not None else None
    return CalendarAppointment(
        request_id=notice.request_id, sequence=notice.sequence, start=notice.start,
        end=notice.end, summary=f"{notice.exam.name} at {venue.name}", location=venue.address,
        description=_calendar_description(notice, service), host=service.host,
        organizer_email=service.email_from, organizer_name=service.name,
        attendee_email=attendee_email, attendee_name=notice.patient_name or None, geo=geo)


def _tidy(text: str) -> str:
    """Plain text with at most one blank line in a row and one newline at the end."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _subject(event: MessageEvent, values: dict[str, Any]) -> str:
    template = template_environment().get_template(f"email/{event.value}.txt.j2")
    context = template.new_context(values)
    return " ".join("".join(template.blocks["subject"](context)).split())


def _template_values(notice: AppointmentNotice, service: ServiceDetails) -> dict[str, Any]:
    preparation, venue = notice.preparation, notice.venue
    arrival = preparation.arrival_time(notice.start)
    previous = notice.previous_start
    appointment = {
        "date": long_date(notice.start), "time": clock_time(notice.start),
        "duration_min": int((notice.end - notice.start).total_seconds() // 60),
        "arrive_by": clock_time(arrival) if arrival is not None else None,
        "exam_name": notice.exam.name, "site": venue.name, "address": venue.address,
        "reference": notice.reference, "preparation": preparation.instructions,
        "safety_notes": preparation.safety_notes, "step_free": venue.step_free,
        "parking": venue.parking, "public_transport": venue.public_transport,
        "previous_date": long_date(previous) if previous else None,
        "previous_time": clock_time(previous) if previous else None,
    }
    return {"a": appointment, "service_name": service.name, "phone": service.phone,
            "portal_url": service.portal_url, "patient_name": notice.patient_name,
            "reason": notice.reason, "missed_appointment_cost": service.missed_appointment_cost}


def _calendar_description(notice: AppointmentNotice, service: ServiceDetails) -> str:
    arrival = notice.preparation.arrival_time(notice.start)
    lines = [f"Booking reference: {notice.reference}"]
    if arrival is not None:
        lines.append(f"Please arrive by {clock_time(arrival)}.")
    lines.append(f"How to prepare: {notice.preparation.instructions}")
    lines.extend(f"{note.heading}: {note.text}" for note in notice.preparation.safety_notes)
    if notice.venue.parking:
        lines.append(f"Parking: {notice.venue.parking}")
    lines.append(f"To change or cancel: {service.portal_url} or call {service.phone}.")
    return "\n".join(lines)

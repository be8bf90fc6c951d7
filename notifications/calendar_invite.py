"""Calendar files (RFC 5545 iCalendar, with iTIP methods of RFC 5546) for an appointment: the
portal's "add to calendar" download (PUBLISH) and the invites sent by email (REQUEST on booking
and change, CANCEL on cancellation).

One event per booking: the UID is the portal's scheme, `booking-<request id>@<host>`, so a
changed appointment replaces the old event in the patient's calendar and a cancellation removes
it; SEQUENCE counts the changes and must grow with each one. Times are written in Europe/London
with the VTIMEZONE embedded, so calendars that do not know the zone still show the right time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from notifications.errors import InvalidFieldError, require_aware
from notifications.wording import LONDON

PRODUCT_ID = "-//CDIP imaging network//Patient portal//EN"
DEFAULT_ALARM_BEFORE = timedelta(days=1)


class CalendarMethod(StrEnum):
    """iTIP methods: PUBLISH for a file the patient downloads, REQUEST for an emailed invite
    (new or changed), CANCEL to take the event out of the patient's calendar."""

    PUBLISH = "PUBLISH"
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True)
class CalendarAppointment:
    """What one calendar event says about an appointment."""

    request_id: int
    """The booking's request id: the UID stays with the booking across changes."""
    sequence: int
    """0 when booked, then one more per change; a cancellation takes the next number."""
    start: datetime
    end: datetime
    summary: str
    location: str
    """The site's name and address, as a satnav or map would need it."""
    description: str
    host: str
    """The service's public host name, the right-hand side of the UID."""
    organizer_email: str | None = None
    organizer_name: str | None = None
    attendee_email: str | None = None
    attendee_name: str | None = None
    geo: tuple[float, float] | None = None
    alarm_before: timedelta | None = DEFAULT_ALARM_BEFORE

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            require_aware(getattr(self, name), name)
        if self.end <= self.start:
            raise InvalidFieldError("end", "the appointment must end after it starts")
        if self.sequence < 0:
            raise InvalidFieldError("sequence", "must be 0 or more")
        if not self.host or "@" in self.host or " " in self.host:
            raise InvalidFieldError("host", f"'{self.host}' is not a host name")
        if self.alarm_before is not None and self.alarm_before <= timedelta(0):
            raise InvalidFieldError("alarm_before", "must be a positive time before the start")

    @property
    def uid(self) -> str:
        return event_uid(self.request_id, self.host)


def event_uid(request_id: int, host: str) -> str:
    """The UID of a booking's event: the same for its whole life, whatever changes."""
    return f"booking-{request_id}@{host}"


def appointment_calendar(appointment: CalendarAppointment, method: CalendarMethod,
                         stamp: datetime, *, sent: bool = True) -> bytes:
    """The .ics file for `appointment` sent with `method`; `stamp` is when it was made.
    REQUEST and CANCEL sent by email need the organizer and the attendee (RFC 5546 3.2.2,
    3.2.5); a file the patient downloads (`sent=False`) is imported into their own calendar,
    where the UID alone finds the event."""
    if method is not CalendarMethod.PUBLISH and sent:
        for name in ("organizer_email", "attendee_email"):
            if not getattr(appointment, name):
                raise InvalidFieldError(name, f"a {method} invite needs one")
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method.value)
    calendar.add_component(_event(appointment, method, stamp))
    year = appointment.start.astimezone(LONDON).year
    calendar.add_missing_timezones(first_date=date(year - 1, 1, 1),
                                   last_date=date(year + 2, 1, 1))
    _one_onset_per_rdate(calendar)
    return calendar.to_ical()


def _one_onset_per_rdate(calendar: Calendar) -> None:
    """Rewrite each observance's onsets as one RDATE line each, DTSTART included.

    icalendar writes an observance's later onsets as one RDATE with a list of values, which
    RFC 5545 allows; but ical.js (Thunderbird's parser) reads only the first value of each
    RDATE and skips DTSTART when RDATEs are present, so it put a January appointment in BST.
    One onset per line, DTSTART repeated (a repeated onset is the same instant), reads the
    same in both parsers."""
    for timezone in calendar.timezones:
        for observance in timezone.subcomponents:
            if "RDATE" not in observance:
                continue
            rdates = observance.pop("RDATE")
            onsets = [observance.decoded("DTSTART")]
            for rdate in rdates if isinstance(rdates, list) else [rdates]:
                onsets.extend(value.dt for value in rdate.dts)
            for onset in sorted(set(onsets)):
                observance.add("rdate", onset)


def _event(appointment: CalendarAppointment, method: CalendarMethod, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", appointment.uid)
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", appointment.start.astimezone(LONDON))
    event.add("dtend", appointment.end.astimezone(LONDON))
    event.add("summary", appointment.summary)
    event.add("location", appointment.location)
    event.add("description", appointment.description)
    event.add("transp", "OPAQUE")
    event.add("class", "PRIVATE")
    cancelled = method is CalendarMethod.CANCEL
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if appointment.geo is not None:
        event.add("geo", appointment.geo)
    _add_people(event, appointment)
    if appointment.alarm_before is not None and not cancelled:
        event.add_component(_alarm(appointment))
    return event


def _add_people(event: Event, appointment: CalendarAppointment) -> None:
    if appointment.organizer_email:
        organizer = vCalAddress(f"mailto:{appointment.organizer_email}")
        if appointment.organizer_name:
            organizer.params["cn"] = vText(appointment.organizer_name)
        event.add("organizer", organizer)
    if appointment.attendee_email:
        attendee = vCalAddress(f"mailto:{appointment.attendee_email}")
        if appointment.attendee_name:
            attendee.params["cn"] = vText(appointment.attendee_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        attendee.params["rsvp"] = vText("FALSE")
        event.add("attendee", attendee)


def _alarm(appointment: CalendarAppointment) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Reminder: {appointment.summary}")
    alarm.add("trigger", -appointment.alarm_before)
    return alarm

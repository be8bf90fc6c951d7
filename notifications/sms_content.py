"""The text message for each event. A text can be read by anyone holding the phone, so it
names no examination and no clinical detail: its template sees only the facts below (time,
site, arrival time, the portal link without a booking reference, the booking line), never the
exam, the reference or a reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from notifications.errors import InvalidFieldError
from notifications.events import MessageEvent
from notifications.notice import AppointmentNotice, ServiceDetails
from notifications.rendering import render
from notifications.wording import clock_time, gsm7_text, short_date, sms_segments

MAX_SMS_SEGMENTS = 3
"""A longer text is refused: it costs more and phones may show it in pieces."""


@dataclass(frozen=True)
class SmsFacts:
    """Everything an SMS template may say."""

    sms_name: str
    date: str
    time: str
    site: str
    arrive_by: str | None
    previous_date: str | None
    previous_time: str | None
    portal_url: str
    phone: str
    missed_appointment_cost: str | None

    @classmethod
    def of(cls, notice: AppointmentNotice, service: ServiceDetails) -> SmsFacts:
        arrival = notice.preparation.arrival_time(notice.start)
        previous = notice.previous_start
        return cls(
            sms_name=service.sms_name, date=short_date(notice.start),
            time=clock_time(notice.start), site=notice.venue.name,
            arrive_by=clock_time(arrival) if arrival and arrival != notice.start else None,
            previous_date=short_date(previous) if previous else None,
            previous_time=clock_time(previous) if previous else None,
            portal_url=service.portal_url, phone=service.phone,
            missed_appointment_cost=service.missed_appointment_cost)


def sms_text(event: MessageEvent, notice: AppointmentNotice, service: ServiceDetails) -> str:
    """The text message for `event`: one line, GSM 7-bit where the names allow, at most
    MAX_SMS_SEGMENTS segments."""
    return render_sms(event, SmsFacts.of(notice, service))


def render_sms(event: MessageEvent, facts: SmsFacts) -> str:
    text = gsm7_text(" ".join(render(f"sms/{event.value}.txt.j2", asdict(facts)).split()))
    segments = sms_segments(text)
    if segments > MAX_SMS_SEGMENTS:
        raise InvalidFieldError("site", f"the {event} text would take {segments} SMS segments "
                                        f"(at most {MAX_SMS_SEGMENTS}): shorten the site name")
    return text


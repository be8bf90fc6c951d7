"""The words of an offer of an earlier slot and of its end ("it has gone"), by text and by
email. A text names no test (anyone may read a phone's lock screen) and asks for a reply
word that is none of Twilio's keywords (BOOK; NO), or gives the offer's signed link; the
link's page shows the offer and only its button books."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from notifications.email_content import EmailContent
from notifications.notice import ServiceDetails
from notifications.wording import clock_time, gsm7_text, long_date, short_date

ACCEPT_WORDS = frozenset({"BOOK", "ACCEPT"})
DECLINE_WORDS = frozenset({"NO", "DECLINE"})


@dataclass(frozen=True)
class OfferNotice:
    start: datetime
    site: str
    exam: str
    expires_at: datetime
    link: str
    """The signed link to the offer's page."""


def offer_sms(notice: OfferNotice, service: ServiceDetails) -> str:
    return gsm7_text(
        f"{service.sms_name}: an earlier appointment is free on {short_date(notice.start)} at "
        f"{clock_time(notice.start)}, {notice.site}. Reply BOOK by "
        f"{clock_time(notice.expires_at)} to take it (NO if not), or see {notice.link} . "
        "Your current booking stays until you take it.")


def gone_sms(notice: OfferNotice, service: ServiceDetails) -> str:
    return gsm7_text(
        f"{service.sms_name}: sorry, the appointment on {short_date(notice.start)} at "
        f"{clock_time(notice.start)} has been taken. Nothing has changed for you.")


def offer_email(notice: OfferNotice, service: ServiceDetails) -> EmailContent:
    when = f"{long_date(notice.start)} at {clock_time(notice.start)}"
    text = (f"An earlier appointment for your {notice.exam} is free: {when} at {notice.site}.\n\n"
            f"To take it, open {notice.link} and press the button before "
            f"{clock_time(notice.expires_at)}. It goes to the first person to accept.\n\n"
            "If you do nothing, your current booking (if you have one) stays as it is.\n\n"
            f"{service.name}, {service.phone}")
    return EmailContent(subject="An earlier appointment is available", text=text,
                        html=_html(text))


def gone_email(notice: OfferNotice, service: ServiceDetails) -> EmailContent:
    text = (f"The appointment on {long_date(notice.start)} at {clock_time(notice.start)} that "
            "we offered you has been taken or is no longer available. Nothing has changed "
            f"for you.\n\n{service.name}, {service.phone}")
    return EmailContent(subject="The earlier appointment has gone", text=text,
                        html=_html(text))


def _html(text: str) -> str:
    return "".join(f"<p>{escape(part)}</p>" for part in text.split("\n\n"))

"""Text-message replies from patients: what each one means, and what we answer.

Twilio acts on some single-word replies itself, before our webhook sees them: the opt-out words
block every later message to the number (error 21610) and the opt-in words lift the block. So
none of those words can be ours: a "reply CANCEL to cancel" design would silently unsubscribe
the patient. Our words are CONFIRM and CHANGE. A reply that Twilio treats as an opt-out or
opt-in is recorded as such here too, so our record matches Twilio's; every other reply gets a
helpful answer, never silence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from notifications.notice import ServiceDetails
from notifications.wording import clock_time, gsm7_text, short_date

TWILIO_OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
"""Twilio's default opt-out keywords (its Messaging docs; REVOKE and OPTOUT were added to the
original six)."""
TWILIO_OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
TWILIO_HELP_WORDS = frozenset({"HELP", "INFO"})
TWILIO_KEYWORDS = TWILIO_OPT_OUT_WORDS | TWILIO_OPT_IN_WORDS | TWILIO_HELP_WORDS

CONFIRM_WORDS = frozenset({"CONFIRM", "CONFIRMED", "CONFIRMING", "ATTEND", "ATTENDING"})
CHANGE_WORDS = frozenset({"CHANGE", "MOVE", "RESCHEDULE", "REARRANGE", "REBOOK"})

_WORD = re.compile(r"[A-Z]+")
_EDGE_PUNCTUATION = " \t\r\n.!?,;:'\"()"


class ReplyIntent(StrEnum):
    CONFIRM = "confirm"
    CHANGE = "change"
    OPT_OUT = "opt_out"
    """Twilio has blocked the number: record it and send nothing more by SMS."""
    OPT_IN = "opt_in"
    """Twilio has lifted its block: texts may go again."""
    HELP = "help"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class UpcomingAppointment:
    """The appointment a reply is about (the number's next one), as a text may name it."""

    start: datetime
    site: str


@dataclass(frozen=True)
class ReplyOutcome:
    intent: ReplyIntent
    answer: str | None
    """The text to send back, or None where Twilio itself answers (opt-out, opt-in) and a
    second message would be noise (or, after an opt-out, refused)."""


def reply_intent(body: str, opt_out_type: str | None = None) -> ReplyIntent:
    """What a reply means. `opt_out_type` is Twilio's OptOutType parameter (STOP, START,
    HELP), sent when a Messaging Service with Advanced Opt-Out recognised a keyword: it wins,
    since it says what Twilio did."""
    if opt_out_type:
        twilio_said = {"STOP": ReplyIntent.OPT_OUT, "START": ReplyIntent.OPT_IN,
                       "HELP": ReplyIntent.HELP}.get(opt_out_type.strip().upper())
        if twilio_said is not None:
            return twilio_said
    text = body.strip(_EDGE_PUNCTUATION).upper()
    if text in TWILIO_OPT_OUT_WORDS:
        return ReplyIntent.OPT_OUT
    if text in TWILIO_OPT_IN_WORDS:
        return ReplyIntent.OPT_IN
    if text in TWILIO_HELP_WORDS:
        return ReplyIntent.HELP
    words = _WORD.findall(text)
    if not words or words[0] in TWILIO_KEYWORDS:
        return ReplyIntent.UNKNOWN
    if words[0] in CONFIRM_WORDS:
        return ReplyIntent.CONFIRM
    if words[0] in CHANGE_WORDS:
        return ReplyIntent.CHANGE
    return ReplyIntent.UNKNOWN


def reply_outcome(body: str, service: ServiceDetails,
                  appointment: UpcomingAppointment | None,
                  opt_out_type: str | None = None) -> ReplyOutcome:
    """The meaning of a reply and our answer. `appointment` is the number's next booked
    appointment, or None when it has none."""
    intent = reply_intent(body, opt_out_type)
    return ReplyOutcome(intent, reply_answer(intent, body, service, appointment))


def reply_answer(intent: ReplyIntent, body: str, service: ServiceDetails,
                 appointment: UpcomingAppointment | None) -> str | None:
    if intent in {ReplyIntent.OPT_OUT, ReplyIntent.OPT_IN}:
        return None
    name, link = service.sms_name, service.portal_url
    if appointment is None and intent is not ReplyIntent.HELP:
        answer = (f"{name}: we could not find an upcoming appointment for this number. "
                  f"Go to {link} or call {service.phone}.")
    elif intent is ReplyIntent.CONFIRM:
        when = f"{short_date(appointment.start)} at {clock_time(appointment.start)}"
        answer = (f"{name}: thank you. We have noted that you will come on {when} at "
                  f"{appointment.site}.")
    elif intent is ReplyIntent.CHANGE:
        answer = (f"{name}: to choose a new time, go to {link} or call {service.phone}. "
                  "Your appointment stays booked until you change it.")
    else:
        answer = _help_text(service, body, understood=intent is ReplyIntent.HELP)
    return gsm7_text(answer)


def _help_text(service: ServiceDetails, body: str, understood: bool) -> str:
    words = _WORD.findall(body.upper())
    opening = "" if understood else " sorry, we could not read your reply."
    asks_to_stop = bool(words) and words[0] in TWILIO_OPT_OUT_WORDS - {"CANCEL"}
    stop_hint = ("To stop all texts from us, reply STOP on its own." if understood or asks_to_stop
                 else "Replies are not read by staff.")
    return (f"{service.sms_name}:{opening} Reply CONFIRM if you can come to your appointment "
            f"or CHANGE if you need a new time. To cancel, go to {service.portal_url} or call "
            f"{service.phone}. {stop_hint}")

"""How messages write dates and times (NHS.UK style, UK local time) and how a text message is
kept to the GSM 7-bit alphabet, in which one SMS segment holds 160 characters (a single
character outside it makes the whole message UCS-2, 70 characters a segment)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
"""Characters that take two septets (an escape and the character)."""

_TYPOGRAPHIC = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
    "\u00a0": " ", "\u2026": "...", "\u2022": "-", "\u00b7": "-",
})


def long_date(moment: datetime) -> str:
    """'Tuesday 4 March 2025', in UK local time."""
    local = moment.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B %Y}"


def short_date(moment: datetime) -> str:
    """'Tuesday 4 March', in UK local time: the weekday makes the year plain in a reminder."""
    local = moment.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B}"


def clock_time(moment: datetime) -> str:
    """'9am', '9:30am', 'midday', '2:15pm', in UK local time, as the NHS.UK style guide
    writes times."""
    local = moment.astimezone(LONDON)
    if (local.hour, local.minute) == (12, 0):
        return "midday"
    if (local.hour, local.minute) == (0, 0):
        return "midnight"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def gsm7_text(text: str) -> str:
    """`text` with typographic quotes, dashes and spaces replaced by GSM 7-bit equivalents.
    Other characters are left alone (`is_gsm7` tells whether any remain)."""
    return text.translate(_TYPOGRAPHIC)


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text)


def sms_segments(text: str) -> int:
    """How many SMS segments `text` takes (GSM 7-bit when it fits the alphabet, else UCS-2)."""
    if is_gsm7(text):
        septets = sum(2 if char in GSM7_EXTENDED else 1 for char in text)
        single, multi = 160, 153
    else:
        septets = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
        single, multi = 70, 67
    if septets <= single:
        return 1
    return -(-septets // multi)

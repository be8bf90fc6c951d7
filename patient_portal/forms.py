"""What the portal's forms accept, and the message for each thing that can be wrong, in the
words NHS.UK uses. Each reader returns the cleaned value or a dict of field id → message (the
id is the element the error summary links to). Reading the posted form itself (CSRF, fields
no answer contains refused by name) is `pages_common.forms`, shared with the console."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from pages_common.forms import (
    Errors,
    FormData,
    UnreadableField,
    posted_form,
    text_fields,
    text_of,
)

MAX_TEXT = 500

__all__ = ["Errors", "FormData", "UnreadableField", "posted_form", "text_fields"]
_DATE_PARTS = {"day": re.compile(r"[0-9]{1,2}"), "month": re.compile(r"[0-9]{1,2}"),
               "year": re.compile(r"[0-9]{4}")}
"""ASCII digits only: `str.isdigit` also takes '²' and '٣', and a 20-digit day overflows."""

WEEKDAYS = (("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday"),
            ("thu", "Thursday"), ("fri", "Friday"), ("sat", "Saturday"), ("sun", "Sunday"))
PERIODS = (("morning", "Mornings (before 12pm)"), ("afternoon", "Afternoons (12pm to 5pm)"),
           ("evening", "Evenings (after 5pm)"))
TRAVEL_MILES = (("5", "Up to 5 miles"), ("10", "Up to 10 miles"), ("20", "Up to 20 miles"),
                ("40", "Up to 40 miles"))
NOTICE_HOURS = (("3", "3 hours"), ("24", "1 day"), ("48", "2 days"), ("72", "3 days"))
CANCEL_REASONS = (("better-time", "I need a different date or time"),
                  ("no-longer-needed", "I no longer need this test"),
                  ("had-elsewhere", "I have had the test somewhere else"),
                  ("unwell", "I am too unwell to go"),
                  ("other", "Another reason"))


@dataclass(frozen=True)
class SignIn:
    booking_reference: str
    date_of_birth: date


def read_sign_in(data: FormData, today: date) -> SignIn | Errors:
    errors: Errors = {}
    reference = text_of(data, "booking-reference").strip()
    if not reference:
        errors["booking-reference"] = "Enter your booking reference"
    born = read_date(data, "date-of-birth", "Date of birth", today, errors)
    if errors or born is None:
        return errors
    return SignIn(reference, born)


def read_date(data: FormData, prefix: str, label: str, today: date,
              errors: Errors) -> date | None:
    """A past date from three fields `<prefix>-day/-month/-year`; adds the NHS.UK message to
    `errors` (keyed by the first field at fault) when it is missing or not a real date."""
    parts = {part: text_of(data, f"{prefix}-{part}").strip() for part in ("day", "month", "year")}
    missing = [part for part, value in parts.items() if not value]
    if len(missing) == 3:
        errors[f"{prefix}-day"] = f"Enter your {label.lower()}"
        return None
    if missing:
        errors[f"{prefix}-{missing[0]}"] = f"{label} must include a {' and '.join(missing)}"
        return None
    if not all(_DATE_PARTS[part].fullmatch(value) for part, value in parts.items()):
        errors[f"{prefix}-day"] = f"{label} must be a real date"
        return None
    try:
        value = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        errors[f"{prefix}-day"] = f"{label} must be a real date"
        return None
    if value >= today:
        errors[f"{prefix}-day"] = f"{label} must be in the past"
        return None
    return value


def read_choice(data: FormData, field: str, allowed: Iterable[str], message: str
                ) -> str | Errors:
    value = text_of(data, field)
    return value if value in set(allowed) else {field: message}


@dataclass(frozen=True)
class Cancellation:
    reason: str


def read_cancellation(data: FormData) -> Cancellation | Errors:
    choice = text_of(data, "reason")
    labels = dict(CANCEL_REASONS)
    if choice not in labels:
        return {"reason": "Select why you are cancelling"}
    details = text_of(data, "reason-details").strip()
    if choice == "other" and not details:
        return {"reason-details": "Tell us why you are cancelling"}
    if len(details) > MAX_TEXT:
        return {"reason-details": f"Reason must be {MAX_TEXT} characters or fewer"}
    return Cancellation(f"{labels[choice]}: {details}" if details else labels[choice])


@dataclass(frozen=True)
class ShortNoticeChoices:
    days: tuple[str, ...]
    periods: tuple[str, ...]
    max_miles: int
    notice_hours: int


def read_short_notice(data: FormData) -> ShortNoticeChoices | Errors:
    errors: Errors = {}
    days = _many(data, "days", WEEKDAYS)
    periods = _many(data, "periods", PERIODS)
    if not days:
        errors["days"] = "Select the days you could come in"
    if not periods:
        errors["periods"] = "Select the times of day you could come in"
    travel = text_of(data, "max-miles")
    if travel not in dict(TRAVEL_MILES):
        errors["max-miles"] = "Select how far you could travel"
    notice = text_of(data, "notice-hours")
    if notice not in dict(NOTICE_HOURS):
        errors["notice-hours"] = "Select how much notice you need"
    if errors:
        return errors
    return ShortNoticeChoices(days, periods, int(travel), int(notice))


def _many(data: FormData, field: str, options: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    raw = data.get(field, [])
    chosen = {raw} if isinstance(raw, str) else set(raw)
    return tuple(code for code, _label in options if code in chosen)

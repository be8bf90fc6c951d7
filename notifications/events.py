"""The things that happen to an appointment that a patient is told about, and the calendar
method (if any) of the invite each one's email carries."""

from __future__ import annotations

from enum import StrEnum

from notifications.calendar_invite import CalendarMethod


class MessageEvent(StrEnum):
    """Values are stable codes (outbox rows and dedupe keys hold them): never rename one."""

    BOOKED = "booked"
    CHANGED = "changed"
    """Moved by the patient, or by a clerk at the patient's request."""
    MOVED_BY_SERVICE = "moved_by_service"
    """Moved by the service (a diary repair, a room closed): an apology and a way to change."""
    CANCELLED = "cancelled"
    """Cancelled by the patient, or by a clerk at the patient's request."""
    CANCELLED_BY_SERVICE = "cancelled_by_service"
    """A staff block or a service cancellation: an apology and a way to book again."""
    REMINDER = "reminder"
    HIGH_RISK_REMINDER = "high_risk_reminder"
    """The extra reminder for a patient the DNA model scores at high risk of not attending."""
    HOLD_EXPIRED = "hold_expired"
    """A time held for the patient (an offer, a clerk's hold) lapsed before it was booked."""
    SIGN_IN_THROTTLED = "sign_in_throttled"
    """Many failed sign-ins with the patient's booking reference: sign-in is being slowed
    down, and the patient should know (about their access, not an appointment)."""
    CONTACT_CODE = "contact_code"
    """A one-time code sent to a mobile number or email address the patient has given, to
    check it is theirs before any other message goes there."""

    @property
    def about_an_appointment(self) -> bool:
        return self not in {MessageEvent.SIGN_IN_THROTTLED, MessageEvent.CONTACT_CODE}

    @property
    def calendar_method(self) -> CalendarMethod | None:
        """The iTIP method of the invite an email for this event carries (None: no invite)."""
        return _CALENDAR_METHODS.get(self)

    @property
    def is_reminder(self) -> bool:
        return self in {MessageEvent.REMINDER, MessageEvent.HIGH_RISK_REMINDER}


_CALENDAR_METHODS = {
    MessageEvent.BOOKED: CalendarMethod.REQUEST,
    MessageEvent.CHANGED: CalendarMethod.REQUEST,
    MessageEvent.MOVED_BY_SERVICE: CalendarMethod.REQUEST,
    MessageEvent.CANCELLED: CalendarMethod.CANCEL,
    MessageEvent.CANCELLED_BY_SERVICE: CalendarMethod.CANCEL,
}

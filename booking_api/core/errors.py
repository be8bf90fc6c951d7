"""Why a booking operation was refused, as our own exceptions. Each says what a clerk, a patient
or a developer can do about it; `field` names the input at fault where there is one. The HTTP
layer maps each class to one status (`booking_api.api.errors`); nothing here knows HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


class BookingError(Exception):
    """A booking operation refused; nothing was changed."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(BookingError):
    """No such request, slot or appointment (or not one this actor may see)."""

    def __init__(self, kind: str, identifier: int | str, field: str | None = None) -> None:
        super().__init__(f"no {kind} {identifier}", field)
        self.kind = kind


class SlotTaken(BookingError):
    """Another booking got the time first (the database's constraints said so, or the check
    under the lock did)."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__("that time has just been taken" + (f": {detail}" if detail else ""),
                         "slot_id")


@dataclass(frozen=True)
class PatientClash:
    """Another live appointment of the same patient that a new time would clash with."""

    appointment_id: int
    state: str
    site_id: str | None
    start_at: datetime
    end_at: datetime
    travel_minutes: int
    """The least gap the travel rule asks for between the two (0 at the same site)."""

    def words(self) -> str:
        when = f"{self.start_at:%Y-%m-%d %H:%M}–{self.end_at:%H:%M} UTC"
        travel = (f", and {self.travel_minutes} minutes are needed to get between the sites"
                  if self.travel_minutes else "")
        return f"appointment {self.appointment_id} ({self.state}) at {self.site_id} {when}{travel}"


class PatientBusy(BookingError):
    """The patient already holds or has booked a time that this one overlaps, or is too
    close to for the journey between the sites; a clerk may book it anyway with a reason."""

    def __init__(self, clashes: Sequence[PatientClash]) -> None:
        found = ": " + "; ".join(clash.words() for clash in clashes) if clashes else ""
        super().__init__(f"the patient already has an appointment at or near that time{found}."
                         " Choose another time (staff may book it anyway, giving an "
                         "overlap_reason)", "slot_id")
        self.clashes = tuple(clashes)


class SlotUnavailable(BookingError):
    """The slot cannot be booked at all: blocked, withdrawn, past, or too short for the exam."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "slot_id")


class SlotNotEligible(BookingError):
    """The slot-eligibility rules say this request cannot take this slot."""

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__("this slot cannot take the request: " + "; ".join(reasons), "slot_id")
        self.reasons = tuple(reasons)


class RequestNotBookable(BookingError):
    """The request is not in a state that may be booked (or already has an appointment)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "request_id")


class HoldExpired(BookingError):
    """The hold ran out before it was booked; the slot may have gone to someone else."""

    def __init__(self, appointment_id: int) -> None:
        super().__init__(f"the hold on appointment {appointment_id} has expired; "
                         "search again and hold a new slot", "appointment_id")


class ChangeRefused(BookingError):
    """The appointment is in a state that does not allow this change."""


class InvalidInput(BookingError):
    """A value that is missing or malformed; `field` names it."""


class OverrideNotAllowed(BookingError):
    """A rule override this actor may not make (by rule policy or by role)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "overrides")


class NotPermitted(BookingError):
    """The actor's role does not allow this action."""

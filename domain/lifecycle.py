"""Request and appointment states, and the transitions between them, held as data.

Every state change in the service is checked against these tables; nothing else decides
what may follow what.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class RequestState(StrEnum):
    RECEIVED = "received"
    JUSTIFIED = "justified"
    REJECTED = "rejected"
    WAITING = "waiting"
    APPOINTABLE = "appointable"
    APPOINTED = "appointed"
    CANCELLED = "cancelled"
    DNA = "dna"
    ATTENDED = "attended"
    ACQUIRED = "acquired"
    REPORTED = "reported"
    AMENDED = "amended"


class AppointmentState(StrEnum):
    HELD = "held"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    DNA = "dna"

    @property
    def fhir_status(self) -> str:
        """FHIR R4 Appointment.status for this state (one-to-one)."""
        return _APPOINTMENT_FHIR[self]

    @property
    def is_active(self) -> bool:
        """Whether an appointment in this state occupies its slot."""
        return self in (AppointmentState.HELD, AppointmentState.BOOKED)


class SlotStatus(StrEnum):
    """FHIR R4 Slot.status codes, used as they are."""

    FREE = "free"
    BUSY = "busy"
    BUSY_TENTATIVE = "busy-tentative"
    BUSY_UNAVAILABLE = "busy-unavailable"
    ENTERED_IN_ERROR = "entered-in-error"


_APPOINTMENT_FHIR = {
    AppointmentState.HELD: "pending",
    AppointmentState.BOOKED: "booked",
    AppointmentState.CANCELLED: "cancelled",
    AppointmentState.ATTENDED: "fulfilled",
    AppointmentState.DNA: "noshow",
}

_R = RequestState
REQUEST_TRANSITIONS: Mapping[RequestState, frozenset[RequestState]] = {
    _R.RECEIVED: frozenset({_R.JUSTIFIED, _R.REJECTED, _R.CANCELLED}),
    _R.JUSTIFIED: frozenset({_R.WAITING, _R.APPOINTABLE, _R.REJECTED, _R.CANCELLED}),
    _R.WAITING: frozenset({_R.APPOINTABLE, _R.REJECTED, _R.CANCELLED}),
    _R.APPOINTABLE: frozenset({_R.APPOINTED, _R.WAITING, _R.CANCELLED}),
    _R.APPOINTED: frozenset({_R.ATTENDED, _R.DNA, _R.APPOINTABLE, _R.WAITING, _R.CANCELLED}),
    _R.DNA: frozenset({_R.APPOINTABLE, _R.CANCELLED}),
    _R.ATTENDED: frozenset({_R.ACQUIRED}),
    _R.ACQUIRED: frozenset({_R.REPORTED}),
    _R.REPORTED: frozenset({_R.AMENDED}),
    _R.AMENDED: frozenset({_R.AMENDED}),
    _R.REJECTED: frozenset(),
    _R.CANCELLED: frozenset(),
}

_A = AppointmentState
APPOINTMENT_TRANSITIONS: Mapping[AppointmentState, frozenset[AppointmentState]] = {
    _A.HELD: frozenset({_A.BOOKED, _A.CANCELLED}),
    _A.BOOKED: frozenset({_A.CANCELLED, _A.ATTENDED, _A.DNA}),
    _A.CANCELLED: frozenset(),
    _A.ATTENDED: frozenset(),
    _A.DNA: frozenset(),
}


class IllegalTransition(ValueError):
    """A state change that the lifecycle tables do not allow."""

    def __init__(self, kind: str, current: StrEnum, target: StrEnum) -> None:
        allowed = _allowed_text(kind, current)
        super().__init__(
            f"a {kind} cannot go from '{current}' to '{target}'; from '{current}' it may go to "
            f"{allowed}"
        )
        self.kind = kind
        self.current = current
        self.target = target


def check_request_transition(current: RequestState, target: RequestState) -> None:
    """Raise IllegalTransition unless a request may move from current to target."""
    if target not in REQUEST_TRANSITIONS[current]:
        raise IllegalTransition("request", current, target)


def check_appointment_transition(current: AppointmentState, target: AppointmentState) -> None:
    """Raise IllegalTransition unless an appointment may move from current to target."""
    if target not in APPOINTMENT_TRANSITIONS[current]:
        raise IllegalTransition("appointment", current, target)


def _allowed_text(kind: str, current: StrEnum) -> str:
    table: Mapping = REQUEST_TRANSITIONS if kind == "request" else APPOINTMENT_TRANSITIONS
    allowed = sorted(str(s) for s in table[current])
    return ", ".join(f"'{s}'" for s in allowed) if allowed else "nothing (it is final)"

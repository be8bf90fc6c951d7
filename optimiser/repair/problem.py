"""What a diary repair is given, as plain frozen dataclasses: the current plan, the patients
booked into it (with the facts slot eligibility needs to judge a new slot for them), and what
went wrong. Nothing here reads a database; the booking service builds these from its rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from domain.network import Network
from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffAvailability
from domain.vocabulary import ExamFamily, Priority, SessionPeriod, StaffRole
from optimiser.problem import RoomSession
from slot_rules.eligibility import EligibilityRuleset
from slot_rules.overrides import Override
from slot_rules.slot_request import SlotRequest


@dataclass(frozen=True)
class Booking:
    """An active (booked or held) appointment: where it sits and what a new slot must pass."""

    appointment_id: int
    request_id: int
    patient_id: int
    room_id: str
    start: datetime
    """Start of the first slot it occupies (timezone-aware); the exam runs on into as many
    consecutive slots of the session as its duration needs."""
    request: SlotRequest
    """Exam (modality, family, duration, capabilities), priority, clinical window (earliest and
    latest date, referral date for two-week-wait), acceptable sites or travel limit, and the
    patient facts the slot rules read (age, weight, access needs, home)."""
    breach_date: date | None = None
    """The waiting-time breach date (6 weeks; 2 for two-week-wait): a move past it is costed,
    and reported, but allowed when the clinical window allows it."""
    overrides: tuple[Override, ...] = ()
    """Rules a clerk set aside for this request; a new slot is judged with the same overrides."""

    @property
    def family(self) -> ExamFamily:
        return self.request.family

    @property
    def priority(self) -> Priority:
        return self.request.priority


@dataclass(frozen=True)
class BlockedSlot:
    """A slot a clerk blocked: no one may be moved into it."""

    room_id: str
    start: datetime


@dataclass(frozen=True)
class RoomDown:
    """A room out of use (scanner fault, maintenance) from `first_day` to `last_day` inclusive."""

    room_id: str
    first_day: date
    last_day: date
    reason: str = ""


@dataclass(frozen=True)
class SiteClosed:
    """Every room of a site out of use (power cut, flood) from `first_day` to `last_day`."""

    site_id: str
    first_day: date
    last_day: date
    reason: str = ""


@dataclass(frozen=True)
class StaffShort:
    """`people` fewer staff of a role at a site in every session of the days given. The loss is
    shared among the site's groups of that role in proportion to who is available."""

    site_id: str
    role: StaffRole
    first_day: date
    last_day: date
    people: int
    reason: str = ""


@dataclass(frozen=True)
class SessionCancelled:
    """One session of one room will not run."""

    room_id: str
    day: date
    period: SessionPeriod
    reason: str = ""


@dataclass(frozen=True)
class ExtraList:
    """A list added where the plan had none (a manager's extra session)."""

    room_id: str
    day: date
    period: SessionPeriod
    template_id: str
    reason: str = ""


Disruption = RoomDown | SiteClosed | StaffShort | SessionCancelled | ExtraList


@dataclass(frozen=True)
class RepairSettings:
    """How wide the neighbourhood is and how long the repair may take."""

    radius_km: float = 15.0
    """Sites this close to a disrupted site are re-planned with it."""
    days_before: int = 1
    """Days before the first disrupted day (never before today) patients may move to."""
    days_after: int = 3
    """Days after the last disrupted day patients may move to."""
    notice_hours: float = 4.0
    """No one is moved into a slot (or a list opened) starting sooner than this after `now`:
    time to tell the patient and to call staff in."""
    time_limit_s: float = 5.0
    """Wall-clock limit of the whole repair; reading the input and the greedy plan are a fixed
    cost that a tiny limit cannot cut."""
    seed: int = 0
    workers: int = 2
    complete_limit: int = 60_000
    """Widen to the complete model (every patient of the neighbourhood movable) when it has at
    most this many candidate placements; otherwise only patients blocking an unplaced one may
    move."""


@dataclass(frozen=True)
class RepairProblem:
    """The current diary of some days, the patients booked into it, and what went wrong."""

    network: Network
    templates: Mapping[str, SessionTemplate]
    sessions: tuple[RoomSession, ...]
    """The current plan: every session of the days the repair may touch (and any others)."""
    bookings: tuple[Booking, ...]
    disruptions: tuple[Disruption, ...]
    now: datetime
    """Timezone-aware; no one is moved into the past, and a disruption may not start before
    today."""
    staff_availability: tuple[StaffAvailability, ...] = ()
    blocked_slots: tuple[BlockedSlot, ...] = ()
    rules: EligibilityRuleset | None = None
    """Slot-eligibility rules; None means the shipped rule set."""
    overtime_share: float = 0.1
    """Extra person-sessions a group may work in a week for lists the repair opens, as a share
    of its contracted sessions (on top of those freed by the disruption)."""


class RepairInputError(ValueError):
    """Input the repair cannot use; the message names the field, and nothing was changed."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name

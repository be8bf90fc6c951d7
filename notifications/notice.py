"""What a message is about, as plain data the booking service fills in from its rows: the
service that writes (names, links, contact), the place, and the appointment. Each checks
itself on construction, naming the field that is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from domain.exams import ExamType
from domain.network import Site
from domain.preparation import Preparation, preparation_for
from notifications.errors import InvalidFieldError, require_aware

MAX_REASON_LENGTH = 200


@dataclass(frozen=True)
class ServiceDetails:
    """Who the messages come from and where patients go next. `portal_url` is the patient
    portal's public address; messages link to it without any booking reference in it."""

    portal_url: str
    phone: str
    """Booking line for patients, as people write it (0121 496 0000)."""
    email_from: str
    """Sender address of emails and ORGANIZER of calendar invites."""
    name: str = "West Midlands Imaging Network"
    sms_name: str = "NHS West Midlands"
    """How a text message signs itself: no clinical word (an SMS may be read by anyone)."""
    missed_appointment_cost: str | None = None
    """E.g. '£120': named in the extra reminder to patients at high risk of not attending
    (naming the cost cut missed appointments in trials); None leaves the sum out."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.portal_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise InvalidFieldError("portal_url", f"'{self.portal_url}' is not an http(s) URL")
        if parts.query or parts.fragment:
            raise InvalidFieldError("portal_url", "must not carry a query or fragment")
        if "@" not in self.email_from or " " in self.email_from.strip():
            raise InvalidFieldError("email_from", f"'{self.email_from}' is not an address")
        for name in ("phone", "name", "sms_name"):
            if not getattr(self, name).strip():
                raise InvalidFieldError(name, "is required")

    @property
    def host(self) -> str:
        """The portal's host name: the right-hand side of calendar UIDs."""
        return urlsplit(self.portal_url).hostname or ""


@dataclass(frozen=True)
class Venue:
    """Where the appointment is, as a patient needs it."""

    name: str
    address: str
    """Name and address on one line, for maps and calendars."""
    parking: str = ""
    public_transport: str = ""
    step_free: bool | None = None
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        for name in ("name", "address"):
            if not getattr(self, name).strip():
                raise InvalidFieldError(name, "is required")

    @classmethod
    def from_site(cls, site: Site, address: str | None = None) -> Venue:
        """The venue of a network site; the reference network has no street addresses, so
        the address falls back to the site's name and postcode district."""
        return cls(name=site.name, address=address or f"{site.name}, {site.postcode_district}",
                   parking=site.parking, public_transport=site.public_transport,
                   step_free=site.step_free, lat=site.lat, lon=site.lon)


@dataclass(frozen=True)
class AppointmentNotice:
    """One appointment, as every message about it needs it."""

    request_id: int
    reference: str
    """The booking reference: emails show it, text messages never do."""
    exam: ExamType
    venue: Venue
    start: datetime
    end: datetime
    sequence: int = 0
    """Changes so far (0 when booked): the calendar SEQUENCE."""
    patient_name: str = ""
    previous_start: datetime | None = None
    """For a change: the time it had before."""
    reason: str = ""
    """For a cancellation or move by the service: why, in plain non-clinical words."""
    preparation: Preparation = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("start", "end", "previous_start"):
            if getattr(self, name) is not None:
                require_aware(getattr(self, name), name)
        if self.end <= self.start:
            raise InvalidFieldError("end", "the appointment must end after it starts")
        if self.sequence < 0:
            raise InvalidFieldError("sequence", "must be 0 or more")
        if not self.reference.strip():
            raise InvalidFieldError("reference", "is required")
        if len(self.reason) > MAX_REASON_LENGTH:
            raise InvalidFieldError("reason", f"is longer than {MAX_REASON_LENGTH} characters")
        object.__setattr__(self, "preparation", preparation_for(self.exam))

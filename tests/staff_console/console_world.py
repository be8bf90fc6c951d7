"""The smallest world the console's pages need: the portal's world (reference network, X-ray
diaries at three sites for the coming days, appointable chest X-ray requests), one staff
account per role, a request waiting to be vetted, one waiting for contact details (a rule a
clerk may override), and an MRI request with an MR-unsafe implant (a hard stop)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from booking_api.access import services as access
from booking_api.access.models import AccountRole, StaffCreate
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.patients.models import Patient
from booking_api.requests import flows
from booking_api.requests.services import receive_request
from domain.vocabulary import Priority
from tests.booking_api.access_support import CHEAP_HASHER, PASSWORD
from tests.patient_portal.portal_world import PortalWorld, build_portal_world

STAFF = {"clerk": "t.clerk", "vetting": "t.vetting", "manager": "t.manager", "admin": "t.admin"}
SETUP = Actor("system:test-setup", Channel.SYSTEM)
VETTER = Actor("vetting:t.vetting", Channel.CLERK, "vetting")


@dataclass(frozen=True)
class ConsoleWorld:
    portal: PortalWorld
    received: int
    """A chest X-ray request not yet vetted."""
    waiting: int
    """Justified, waiting: the patient has no phone or email (self-booking-contact)."""
    unsafe_mri: int
    """Justified MRI whose patient has an MR-unsafe implant (hard stop)."""
    windowed: int
    """Appointable chest X-ray whose clinical window closes on the diaries' first day (the
    slot rule clinical-window, a radiologist's to set aside, refuses every later time)."""

    @property
    def url(self) -> str:
        return self.portal.url


def build_console_world(url: str) -> ConsoleWorld:
    portal = build_portal_world(url, days=10, patients=6)
    engine = open_engine(url)
    try:
        with transaction(engine) as session:
            for role, username in STAFF.items():
                access.create_staff(session, SETUP, StaffCreate(
                    username=username, display_name=f"Test {role.title()}",
                    role=AccountRole(role), password=PASSWORD), CHEAP_HASHER)
            received = _request(session, "XCHES", Priority.URGENT, "Received")
            waiting = _request(session, "XCHES", Priority.ROUTINE, "Waiting")
            unsafe = _request(session, "MBRAI", Priority.ROUTINE, "Implant", phone="+447700900123")
        today = datetime.now(UTC).date()
        with transaction(engine) as session:
            for request_id, exam in ((waiting, "XCHES"), (unsafe, "MBRAI")):
                flows.justify_request(session, request_id, flows.VettingProtocol(
                    exam_code=exam, protocol="standard", contrast=False, sedation=False,
                    priority=Priority.ROUTINE), VETTER, today)
            flows.record_request_fact(session, unsafe, "mr_unsafe_implant", True, VETTER,
                                      today)
    finally:
        engine.dispose()
    windowed = add_windowed_request(url, portal.first_day)
    return ConsoleWorld(portal, received, waiting, unsafe, windowed)


def add_windowed_request(url: str, window_closes: date) -> int:
    """A new appointable chest X-ray whose clinical window closes on `window_closes`."""
    engine = open_engine(url)
    try:
        with transaction(engine) as session:
            request_id = _request(session, "XCHES", Priority.ROUTINE, "Window",
                                  phone="+447700900124", latest=window_closes)
        with transaction(engine) as session:
            flows.justify_request(session, request_id, flows.VettingProtocol(
                exam_code="XCHES", protocol="standard", contrast=False, sedation=False,
                priority=Priority.ROUTINE), VETTER, datetime.now(UTC).date())
    finally:
        engine.dispose()
    return request_id


def _request(session, exam: str, priority: Priority, family: str,
             phone: str | None = None, latest: date | None = None) -> int:
    patient = Patient(given_name="Console", family_name=family, date_of_birth=date(1970, 1, 2),
                      postcode_district="B1", area_id="B1", phone=phone)
    session.add(patient)
    session.flush()
    return receive_request(
        session, SETUP, "test order", patient_id=patient.id, exam_code=exam, priority=priority,
        received_at=datetime.now(UTC) - timedelta(days=20), referrer="GP",
        latest_date=latest).id

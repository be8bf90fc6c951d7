"""What every portal route needs: database sessions, the patient's search, redirects that
follow post/redirect/get, one-off notices carried to the next page, and the booking as the
patient sees it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from booking_api.appointments.models import Appointment
from booking_api.appointments.services import own_request
from booking_api.network.directory import ExamDetails, SiteDetails, exam_details, site_of_room
from booking_api.requests.models import Request as ImagingRequest
from booking_api.slots.search import SEARCHABLE
from booking_api.slots.views import slot_index
from domain.lifecycle import AppointmentState, RequestState
from patient_portal.offers import Searcher, active_appointment
from patient_portal.security import portal_session
from patient_portal.signed_in import PortalPatient, SignedInPatient, now_of


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def tell_next_page(request: Request, text: str) -> None:
    portal_session(request)["notice"] = text


def notice_for_this_page(request: Request) -> str | None:
    return portal_session(request).pop("notice", None)


@contextmanager
def writing(request: Request) -> Iterator[Session]:
    """A session for a change; the caller commits. Rolled back on any exception, so SQLite's
    write lock is free before anyone else needs it."""
    with request.app.state.session_factory() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


@contextmanager
def reading(request: Request) -> Iterator[Session]:
    with request.app.state.read_session_factory() as session:
        yield session


def searcher(request: Request, session: Session, patient: PortalPatient) -> Searcher:
    return Searcher(session, slot_index(request), patient.request_id, patient.patient_id,
                    now_of(request))


def patient_actor(patient: PortalPatient) -> str:
    """Whose idempotency keys these are."""
    return f"portal:patient:{patient.patient_id}"


@dataclass(frozen=True)
class Booking:
    """The patient's request and, if booked, its appointment, with what the pages show."""

    request: ImagingRequest
    exam: ExamDetails
    appointment: Appointment | None
    site: SiteDetails | None

    @property
    def start(self) -> datetime | None:
        return self.appointment.start_at if self.appointment else None

    def page_values(self) -> dict[str, object]:
        return {"reference": self.request.booking_reference, "exam": self.exam,
                "site": self.site, "start": self.start}


def booking_of(session: Session, patient: PortalPatient,
               state: AppointmentState = AppointmentState.BOOKED) -> Booking:
    request = own_request(session, patient.request_id, patient.patient_id)
    exam = exam_details(session, request.exam_code)
    assert exam is not None, "every request names a catalogued exam"
    appointment = active_appointment(session, patient.patient_id, patient.request_id, state)
    site = site_of_room(session, appointment.room_id) if appointment else None
    return Booking(request, exam, appointment, site)


class CannotBookOnline(Exception):
    """The request is not in a state a patient can book; the message says why, plainly."""


WHY_NOT_BOOKABLE = {
    RequestState.RECEIVED: "The imaging team is still checking your referral. We will "
                           "contact you when you can book.",
    RequestState.JUSTIFIED: "The imaging team is still checking your referral. We will "
                            "contact you when you can book.",
    RequestState.WAITING: "Your test cannot be booked yet. We will contact you when it can.",
    RequestState.REJECTED: "This referral is no longer active. Contact the person who "
                           "referred you.",
    RequestState.CANCELLED: "This referral has been cancelled. Contact the person who "
                            "referred you if you still need the test.",
}
ALREADY_DONE = "This test has already taken place, so there is nothing to book."


def bookable_patient(request: Request, patient: SignedInPatient) -> PortalPatient:
    """The signed-in patient, when their request can be booked or changed online."""
    with reading(request) as session:
        state = own_request(session, patient.request_id, patient.patient_id).state
    if state not in SEARCHABLE:
        raise CannotBookOnline(WHY_NOT_BOOKABLE.get(state, ALREADY_DONE))
    return patient


BookablePatient = Annotated[PortalPatient, Depends(bookable_patient)]

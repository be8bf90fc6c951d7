"""What every portal route needs: the service's handles on the app (database, slot index,
clock), the patient's search, redirects that follow post/redirect/get, one-off notices
carried to the next page, and the booking as the patient sees it (a read model of
booking_api: pages never touch a database session)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse

from booking_api.appointments.read_models import PatientBooking, patient_booking
from booking_api.appointments.visit_guide import visit_guide
from booking_api.core.app_state import database_of
from booking_api.core.db import Database
from booking_api.search.offers import PatientSearch
from booking_api.search.services import SEARCHABLE
from domain.lifecycle import AppointmentState, RequestState
from patient_portal.question_gate import check_questions
from patient_portal.security import portal_session
from patient_portal.signed_in import PortalPatient, SignedInPatient, now_of


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def tell_next_page(request: Request, text: str) -> None:
    portal_session(request)["notice"] = text


def notice_for_this_page(request: Request) -> str | None:
    return portal_session(request).pop("notice", None)


def database(request: Request) -> Database:
    return database_of(request.app)


def searcher(request: Request, patient: PortalPatient) -> PatientSearch:
    return PatientSearch(database(request), request.app.state.slot_index, patient.request_id,
                         patient.patient_id, now_of(request))


def booking_of(request: Request, patient: PortalPatient,
               state: AppointmentState = AppointmentState.BOOKED) -> PatientBooking:
    return patient_booking(database(request), patient.patient_id, patient.request_id, state)


def page_values(booking: PatientBooking) -> dict[str, object]:
    """What every page about a booking shows, with where and when to go."""
    return {"reference": booking.reference, "exam": booking.exam, "site": booking.site,
            "start": booking.start, "guide": visit_guide(booking)}


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
    """The signed-in patient, when their request can be booked or changed online (health
    questions answered and not under review)."""
    state = booking_of(request, patient).request_state
    check_questions(request, patient)
    if state not in SEARCHABLE:
        raise CannotBookOnline(WHY_NOT_BOOKABLE.get(state, ALREADY_DONE))
    return patient


BookablePatient = Annotated[PortalPatient, Depends(bookable_patient)]

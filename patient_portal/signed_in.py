"""Who the browser is signed in as: the patient's signed token kept in the session (issued by
`booking_api.access` at sign-in), checked on every page; without a valid one the page sends
the browser back to the start with a plain message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from booking_api.access.flows import patient_of_token, sign_out_patient
from booking_api.access.principals import PatientPrincipal
from booking_api.core.app_state import app_now, database_of, settings_of
from patient_portal.security import portal_session

SESSION_ENDED = "For your security, you were signed out. Sign in again to carry on."


class NotSignedIn(Exception):
    """No valid patient token in this browser's session; the message is for the patient."""


@dataclass(frozen=True)
class PortalPatient:
    """The signed-in patient and the request (examination) they signed in for."""

    principal: PatientPrincipal
    request_id: int

    @property
    def patient_id(self) -> int:
        return self.principal.patient_id


def sign_in_browser(request: Request, token: str) -> None:
    """Start a fresh session for this patient (the old session's data is dropped)."""
    session = portal_session(request)
    csrf = session.get("csrf")
    session.clear()
    session.update({"token": token, "csrf": csrf})


def sign_out_browser(request: Request) -> None:
    """Forget the session in this browser and end its sign-in on the server, so the old
    cookie (or the token inside it) no longer works anywhere."""
    session = portal_session(request)
    token = session.get("token")
    if token:
        sign_out_patient(database_of(request.app), settings_of(request.app).secret_key, token,
                         now_of(request))
    session.clear()


def now_of(request: Request) -> datetime:
    return app_now(request.app)


def current_portal_patient(request: Request) -> PortalPatient:
    token = portal_session(request).get("token")
    if not token:
        raise NotSignedIn("Sign in with your booking reference and date of birth.")
    principal = patient_of_token(database_of(request.app), settings_of(request.app).secret_key,
                                 token, now_of(request))
    if principal is None:
        sign_out_browser(request)
        raise NotSignedIn(SESSION_ENDED)
    return PortalPatient(principal, principal.signed_in_request_id)


SignedInPatient = Annotated[PortalPatient, Depends(current_portal_patient)]


def journey(request: Request) -> dict[str, Any]:
    """The booking journey's choices so far (compare, site, date, hold, reschedule)."""
    session = portal_session(request)
    return session.setdefault("journey", {})

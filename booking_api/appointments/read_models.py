"""A patient's booking as the pages show it: frozen values read in one short read session,
so pages never hold an ORM row or a session. Patients see only their own requests (NotFound
otherwise, so existence does not leak)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from booking_api.appointments.models import Appointment
from booking_api.appointments.services import (
    appointments_of_patient,
    get_appointment,
    hold_ceiling,
    own_request,
)
from booking_api.core.db import Database
from booking_api.core.errors import NotFound
from booking_api.network.directory import ExamDetails, SiteDetails, exam_details, site_of_room
from domain.lifecycle import AppointmentState, RequestState


@dataclass(frozen=True)
class AppointmentView:
    appointment_id: int
    state: AppointmentState
    start_at: datetime
    end_at: datetime
    held_until: datetime | None
    hold_extended: bool
    hold_ceiling: datetime | None = None
    """The latest this hold can be extended to (`services.hold_ceiling`); None: not asked."""

    def can_extend(self, hold_minutes: int) -> bool:
        """Whether one more extension of `hold_minutes` stays within the ceiling."""
        return (self.held_until is not None and self.hold_ceiling is not None
                and self.held_until + timedelta(minutes=hold_minutes) <= self.hold_ceiling)


@dataclass(frozen=True)
class PatientBooking:
    """The patient's request and, if it has one in the asked-for state, its appointment."""

    request_id: int
    reference: str
    request_state: RequestState
    exam: ExamDetails
    appointment: AppointmentView | None
    site: SiteDetails | None

    @property
    def start(self) -> datetime | None:
        return self.appointment.start_at if self.appointment else None


def patient_booking(db: Database, patient_id: int, request_id: int,
                    state: AppointmentState = AppointmentState.BOOKED) -> PatientBooking:
    """The booking of the patient's request; NotFound if the request is not theirs."""
    with db.reading() as session:
        request = own_request(session, request_id, patient_id)
        exam = exam_details(session, request.exam_code)
        assert exam is not None, "every request names a catalogued exam"
        mine = [a for a in appointments_of_patient(session, patient_id)
                if a.request_id == request_id]
        current = next((a for a in mine if a.state is state), None)
        site = site_of_room(session, current.room_id) if current and current.room_id else None
        return PatientBooking(
            request_id=request_id, reference=request.booking_reference,
            request_state=request.state, exam=exam,
            appointment=_view(current) if current else None, site=site)


def live_hold(db: Database, patient_id: int, hold_id: int, now: datetime,
              hold_minutes: int) -> AppointmentView | None:
    """The patient's hold while it still holds its time at `now`, else None; with the
    ceiling its extensions of `hold_minutes` may reach."""
    with db.reading() as session:
        try:
            hold = get_appointment(session, hold_id, patient_id)
        except NotFound:
            return None
        if hold.state is not AppointmentState.HELD or hold.held_until is None \
                or hold.held_until <= now:
            return None
        return replace(_view(hold), hold_ceiling=hold_ceiling(hold, hold_minutes))


def appointment_start(db: Database, appointment_id: int, patient_id: int) -> datetime | None:
    """When one of the patient's appointments starts (None if it is not theirs)."""
    with db.reading() as session:
        try:
            return get_appointment(session, appointment_id, patient_id).start_at
        except NotFound:
            return None


def _view(appointment: Appointment) -> AppointmentView:
    assert appointment.id is not None and appointment.start_at and appointment.end_at
    return AppointmentView(appointment.id, appointment.state, appointment.start_at,
                           appointment.end_at, appointment.held_until, appointment.hold_extended)


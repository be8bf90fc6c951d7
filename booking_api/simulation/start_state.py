"""The read model the what-if engine starts from: this week's diary, the appointments booked
from today, the appointable requests waiting and the demand forecast, as the engine's plain
`StartState`. Reads only; the engine never sees a session."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from booking_api.appointments.models import Appointment
from booking_api.diary.demand import planned_demand, read_service_history
from booking_api.diary.services import planned_sessions
from booking_api.network.models import ExamType, Room
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from domain.lifecycle import AppointmentState
from domain.network import Network
from domain.session_templates import SessionTemplate
from domain.vocabulary import AgeBand
from forecasting.demand import DEFAULT_MODEL
from simulations.whatif.start_state import BookedAppointment, StartState


class StartStateError(ValueError):
    """The database cannot give a start state; the message says what to do."""


def read_start_state(session: Session, network: Network,
                     templates: Mapping[str, SessionTemplate], zone: ZoneInfo, today: date,
                     *, model: str = DEFAULT_MODEL) -> StartState:
    """The network as it stands on `today`, simulated from this week's Monday."""
    monday = today - timedelta(days=today.weekday())
    room_sites = {room.room_id: room.site_id for room in network.rooms}
    diary = planned_sessions(session, monday, room_sites)
    if not diary:
        raise StartStateError(f"no diary for the week of {monday}: build one first "
                              "(`cdip diary build`)")
    history = read_service_history(session, zone, today)
    forecast = planned_demand(dataclasses.replace(history, waiting=()), monday, 1, model=model)
    return StartState(network, templates, monday, diary, _booked(session, zone, today),
                      history.waiting, forecast.rows(monday))


def _booked(session: Session, zone: ZoneInfo, today: date) -> tuple[BookedAppointment, ...]:
    start = datetime.combine(today, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    room_site = dict(session.execute(select(Room.room_id, Room.site_id)).all())
    rows = session.execute(
        select(ExamType.family, Patient.area_id, Request.priority, Request.received_at,
               Patient.date_of_birth, Appointment.room_id, Appointment.start_at)
        .join(Request, col(Request.id) == Appointment.request_id)
        .join(ExamType, col(ExamType.code) == Request.exam_code)
        .join(Patient, col(Patient.id) == Appointment.patient_id)
        .where(Appointment.state == AppointmentState.BOOKED,
               col(Appointment.start_at) >= start, col(Patient.area_id).is_not(None))).all()
    booked = []
    for family, area, priority, received_at, born, room_id, start_at in rows:
        if room_id not in room_site:
            continue
        day = _local(start_at, zone)
        booked.append(BookedAppointment(family, area, priority,
                                        AgeBand.of_age(today.year - born.year),
                                        _local(received_at, zone), room_site[room_id], day))
    return tuple(booked)


def _local(moment: datetime, zone: ZoneInfo) -> date:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(zone).date()

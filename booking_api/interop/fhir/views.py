"""The FHIR R4 scheduling API at /fhir: Patient, ServiceRequest (read; create = an order in),
Schedule, Slot (search), Appointment (read, search, create from a free slot, cancel) and the
scheduling operations `Appointment/$find`, `$hold`, `$book`. Bodies and answers are
`application/fhir+json`; every refusal is an OperationOutcome naming the element. Callers
are the interface's staff accounts (clerk role or above). Booking takes slots the one way the
service does (`appointments.taking`, through the appointment services)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from booking_api.access.deps import ClerkOrAbove, route_of
from booking_api.access.principals import StaffPrincipal
from booking_api.appointments.models import Appointment
from booking_api.audit.reads import Reader, record_read
from booking_api.audit.services import Actor
from booking_api.core import errors
from booking_api.core.app_state import app_now, database_of, settings_of
from booking_api.core.channel import Channel
from booking_api.interop.fhir import operations
from booking_api.interop.fhir.outcome import (
    FHIR_JSON,
    FhirError,
    fhir_error_response,
    from_booking_error,
    operation_outcome,
)
from booking_api.interop.fhir.parsing import int_id, parse_resource
from booking_api.interop.fhir.resources import (
    appointment_resource,
    patient_resource,
    service_request_resource,
)
from booking_api.interop.fhir.service_requests import order_from_service_request
from booking_api.interop.fhir.slot_search import schedules, search_slots, searchset
from booking_api.interop.models import OrderSource, PlacerOrder
from booking_api.interop.orders import OrderRefused, act_on_order
from booking_api.network.models import ExamType
from booking_api.patients.models import Patient
from booking_api.requests.models import Request as ImagingRequest

router = APIRouter(prefix="/fhir", tags=["fhir"])


def fhir_json(resource: dict[str, Any], status: int = 200,
              headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(resource, status_code=status, media_type=FHIR_JSON, headers=headers)


def actor_of(staff: StaffPrincipal) -> Actor:
    return Actor(f"fhir:{staff.username}", Channel.FHIR, role=str(staff.role))


def reader_of_fhir(staff: StaffPrincipal, request: Request) -> Reader:
    """The staff system reading through this FHIR route, for the access log."""
    return Reader(actor_of(staff), route_of(request))


async def _run(request: Request, work, *args: Any, status: int = 200) -> JSONResponse:
    """Run blocking work in the thread pool, turning refusals into OperationOutcomes."""
    try:
        answer = await run_in_threadpool(work, database_of(request.app), *args)
    except FhirError as error:
        return fhir_error_response(error)
    except errors.BookingError as error:
        return fhir_error_response(from_booking_error(error))
    if isinstance(answer, tuple):
        body, headers, status = answer
        return fhir_json(body, status, headers)
    return fhir_json(answer, status)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


@router.get("/Patient/{patient_id}")
async def read_patient(patient_id: str, request: Request, staff: ClerkOrAbove) -> JSONResponse:
    """A patient's details (the read is logged, as every FHIR read of a patient's record)."""
    def work(db) -> dict:
        with db.reading() as session:
            patient = session.get(Patient, int_id(patient_id, "Patient.id"))
            if patient is None:
                raise FhirError(404, "Patient.id", f"no Patient {patient_id}")
            record_read(session, reader_of_fhir(staff, request), patient.id or 0, "patient",
                        patient.id)
            return patient_resource(patient)
    return await _run(request, work)


@router.get("/ServiceRequest/{request_id}")
async def read_service_request(request_id: str, request: Request,
                               staff: ClerkOrAbove) -> JSONResponse:
    def work(db) -> dict:
        with db.reading() as session:
            return _service_request(session, int_id(request_id, "ServiceRequest.id"),
                                    reader_of_fhir(staff, request))
    return await _run(request, work)


@router.post("/ServiceRequest")
async def create_service_request(request: Request, staff: ClerkOrAbove) -> JSONResponse:
    """An order in: the placer is the signed-in system; a resend with the same identifier is
    answered with the request already made (conditional create)."""
    body = await request.body()
    now = app_now(request.app)

    def work(db) -> tuple[dict, dict[str, str], int]:
        order = order_from_service_request(parse_resource(body, "ServiceRequest"),
                                           staff.username)
        with db.transaction() as session:
            existing = session.scalars(select(PlacerOrder).where(
                PlacerOrder.placer_system == order.placer_system,
                PlacerOrder.placer_order_number == order.placer_order_number)).first()
            if existing is not None and existing.request_id is not None:
                return _service_request(session, existing.request_id), {}, 200
            try:
                outcome = act_on_order(session, order, OrderSource.FHIR, actor_of(staff), now)
            except OrderRefused as refused:
                raise FhirError(422, refused.element, refused.text) from refused
            if outcome.request_id is None:  # accepted, and held for a clerk: 202
                return operation_outcome([("informational", "ServiceRequest",
                                           f"accepted: {outcome.note}")]), {}, 202
            resource = _service_request(session, outcome.request_id)
        return resource, {"Location": f"{_base(request)}/ServiceRequest/{resource['id']}"}, 201
    return await _run(request, work)


@router.get("/Schedule")
async def search_schedules(request: Request, _staff: ClerkOrAbove) -> JSONResponse:
    def work(db) -> dict:
        with db.reading() as session:
            return searchset(_base(request), schedules(session, None))
    return await _run(request, work)


@router.get("/Schedule/{room_id}")
async def read_schedule(room_id: str, request: Request, _staff: ClerkOrAbove) -> JSONResponse:
    def work(db) -> dict:
        with db.reading() as session:
            found = schedules(session, {room_id})
        if not found:
            raise FhirError(404, "Schedule.id", f"no Schedule {room_id}")
        return found[0]
    return await _run(request, work)


@router.get("/Slot")
async def search_slot(request: Request, _staff: ClerkOrAbove) -> JSONResponse:
    params = {key: request.query_params.getlist(key) for key in request.query_params}

    def work(db) -> dict:
        with db.reading() as session:
            return search_slots(session, params, _base(request))
    return await _run(request, work)


@router.get("/Appointment/{appointment_id}")
async def read_appointment(appointment_id: str, request: Request,
                           staff: ClerkOrAbove) -> JSONResponse:
    def work(db) -> dict:
        with db.reading() as session:
            appointment = session.get(Appointment, int_id(appointment_id, "Appointment.id"))
            if appointment is None:
                raise FhirError(404, "Appointment.id", f"no Appointment {appointment_id}")
            record_read(session, reader_of_fhir(staff, request), appointment.patient_id,
                        "appointment", appointment.id)
            return appointment_resource(appointment, appointment.request_id)
    return await _run(request, work)


@router.get("/Appointment")
async def search_appointments(request: Request, staff: ClerkOrAbove) -> JSONResponse:
    """Appointment search; each patient whose appointments it returns is logged as read."""
    params = {key: request.query_params.getlist(key) for key in request.query_params}

    def work(db) -> dict:
        with db.reading() as session:
            return searchset(_base(request), operations.find_appointments(
                session, params, reader_of_fhir(staff, request)))
    return await _run(request, work)


@router.post("/Appointment")
async def create_appointment(request: Request, staff: ClerkOrAbove) -> JSONResponse:
    """Book (status booked) or hold (status pending) the free slot the Appointment names,
    for the ServiceRequest it is based on."""
    body, now = await request.body(), app_now(request.app)
    minutes = settings_of(request.app).hold_minutes

    def work(db) -> dict:
        appointment = parse_resource(body, "Appointment")
        return operations.create_appointment(db, appointment, actor_of(staff), now, minutes)
    return await _run(request, work, status=201)


@router.put("/Appointment/{appointment_id}")
async def update_appointment(appointment_id: str, request: Request,
                             staff: ClerkOrAbove) -> JSONResponse:
    """Cancel: the Appointment as read, with status cancelled and a cancelationReason."""
    body, now = await request.body(), app_now(request.app)

    def work(db) -> dict:
        appointment = parse_resource(body, "Appointment")
        return operations.cancel_appointment(db, int_id(appointment_id, "Appointment.id"),
                                             appointment, actor_of(staff), now)
    return await _run(request, work)


@router.post("/Appointment/$find")
async def find(request: Request, _staff: ClerkOrAbove) -> JSONResponse:
    body, now = await request.body(), app_now(request.app)
    index = request.app.state.slot_index

    def work(db) -> dict:
        return operations.find(db, index, parse_resource(body, "Parameters"), now,
                               _base(request))
    return await _run(request, work)


@router.post("/Appointment/$hold")
async def hold(request: Request, staff: ClerkOrAbove) -> JSONResponse:
    body, now = await request.body(), app_now(request.app)
    minutes = settings_of(request.app).hold_minutes

    def work(db) -> dict:
        appointment = operations.appointment_parameter(parse_resource(body, "Parameters"))
        return operations.create_appointment(db, appointment, actor_of(staff), now, minutes,
                                             hold=True)
    return await _run(request, work)


@router.post("/Appointment/$book")
async def book(request: Request, staff: ClerkOrAbove) -> JSONResponse:
    body, now = await request.body(), app_now(request.app)
    minutes = settings_of(request.app).hold_minutes

    def work(db) -> dict:
        appointment = operations.appointment_parameter(parse_resource(body, "Parameters"))
        return operations.book(db, appointment, actor_of(staff), now, minutes)
    return await _run(request, work)


def _service_request(session: Session, request_id: int,
                     reader: Reader | None = None) -> dict[str, Any]:
    imaging = session.get(ImagingRequest, request_id)
    if imaging is None:
        raise FhirError(404, "ServiceRequest.id", f"no ServiceRequest {request_id}")
    record_read(session, reader, imaging.patient_id, "request", request_id)
    placer = session.scalars(select(PlacerOrder).where(
        PlacerOrder.request_id == request_id)).first()
    exam = session.get(ExamType, imaging.exam_code)
    return service_request_resource(
        imaging, (placer.placer_system, placer.placer_order_number) if placer else None,
        exam.name if exam else imaging.exam_code)

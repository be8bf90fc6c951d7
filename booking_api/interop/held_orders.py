"""The clerk's queue of held orders: orders whose patient needs a person to decide (a
demographic likeness, or an NHS number whose date of birth disagrees) or whose code maps to
no exam. A clerk chooses the patient (an existing one, or a new registration) and the exam,
optionally remembering the code's mapping; then the order becomes a `received` request as if
it had arrived complete. Every decision is audited with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from booking_api.audit.services import Actor, record_audit
from booking_api.core.errors import ChangeRefused, InvalidInput, NotFound
from booking_api.interop.incoming import IncomingOrder
from booking_api.interop.models import HeldOrder, HeldOrderState, PlacerOrder
from booking_api.interop.order_codes import CodeMapping, exam_for, load_code_map
from booking_api.interop.orders import new_request
from booking_api.network.models import ExamType
from booking_api.patients.identity import MatchKind, match_patient, register_patient
from booking_api.patients.models import Patient


@dataclass(frozen=True)
class Resolution:
    """A clerk's decision on a held order."""

    reason: str
    patient_id: int | None = None
    """The existing patient the order is for; None with `new_patient` to register one."""
    new_patient: bool = False
    exam_code: str | None = None
    remember_mapping: bool = False
    """Add the order code → exam to the map, so later orders with it go straight through."""


def open_held_orders(session: Session, limit: int = 100) -> list[HeldOrder]:
    """The queue, oldest first."""
    return list(session.scalars(select(HeldOrder).where(
        HeldOrder.state == HeldOrderState.OPEN).order_by(HeldOrder.created_at, HeldOrder.id)
        .limit(limit)))


def resolve_held_order(session: Session, held_id: int, decision: Resolution, actor: Actor,
                       now: datetime) -> int:
    """Turn a held order into a received request; returns the request's id."""
    held = session.get(HeldOrder, held_id, with_for_update=True)
    if held is None:
        raise NotFound("held order", held_id, "held_order_id")
    if held.state is not HeldOrderState.OPEN:
        raise ChangeRefused(f"held order {held_id} is {held.state.value}", "held_order_id")
    if not decision.reason.strip():
        raise InvalidInput("a reason for the decision is required", "reason")
    order = IncomingOrder.from_json(held.order_data)
    patient_id = _patient(session, held, order, decision)
    exam_code = _exam(session, held, decision)
    if decision.remember_mapping and held.needs_exam and order.code is not None:
        load_code_map(session, [CodeMapping(order.code.code_system, order.code.code,
                                            exam_code, order.code.text)], with_catalogue=False)
    request = new_request(session, order, exam_code, patient_id, actor, now)
    placer = session.get(PlacerOrder, held.placer_order_id)
    assert placer is not None
    placer.request_id = request.id
    held.state, held.resolved_by, held.resolved_at = HeldOrderState.RESOLVED, actor.name, now
    held.resolution = decision.reason.strip()
    session.add_all([placer, held])
    record_audit(session, actor, "order.resolved", "held_order", held_id,
                 after={"patient_id": patient_id, "exam_code": exam_code,
                        "request_id": request.id, "new_patient": decision.new_patient},
                 reason=held.resolution)
    session.flush()
    return request.id or 0


def _patient(session: Session, held: HeldOrder, order: IncomingOrder,
             decision: Resolution) -> int:
    if decision.new_patient and decision.patient_id is not None:
        raise InvalidInput("choose an existing patient or a new one, not both", "patient_id")
    if decision.new_patient:
        if order.patient.nhs_number and session.scalar(select(Patient.id).where(
                Patient.nhs_number == order.patient.nhs_number)) is not None:
            raise ChangeRefused("a patient with this NHS number exists: choose them, or "
                                "correct the order with its placer", "new_patient")
        return register_patient(session, order.patient)
    if decision.patient_id is None:
        if held.needs_patient:
            raise InvalidInput("this order needs a patient: choose one or register a new "
                               "one", "patient_id")
        return _unheld_patient(session, order)
    patient = session.get(Patient, decision.patient_id)
    if patient is None:
        raise NotFound("patient", decision.patient_id, "patient_id")
    if order.patient.nhs_number and patient.nhs_number not in (None, order.patient.nhs_number):
        raise ChangeRefused(f"patient {patient.id} has another NHS number; an order is never "
                            "matched against a different NHS number", "patient_id")
    return patient.id or 0


def _unheld_patient(session: Session, order: IncomingOrder) -> int:
    """The order's patient when only its exam was in question (matched or new then)."""
    match = match_patient(session, order.patient)
    if match.kind is MatchKind.MATCHED and match.patient_id is not None:
        return match.patient_id
    if match.kind is MatchKind.NEW:
        return register_patient(session, order.patient)
    raise ChangeRefused(f"the patient now needs a decision: {match.reason}", "patient_id")


def _exam(session: Session, held: HeldOrder, decision: Resolution) -> str:
    order = IncomingOrder.from_json(held.order_data)
    if decision.exam_code is None:
        if held.needs_exam:
            raise InvalidInput("this order's code maps to no exam: choose the exam",
                               "exam_code")
        assert order.code is not None
        exam_code = exam_for(session, order.code)
        if exam_code is None:
            raise InvalidInput("the order's code maps to no exam: choose the exam",
                               "exam_code")
        return exam_code
    if session.get(ExamType, decision.exam_code) is None:
        raise InvalidInput(f"no exam {decision.exam_code} in the catalogue", "exam_code")
    return decision.exam_code

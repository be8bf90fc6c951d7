"""What an incoming order does, in the caller's transaction, whatever channel it came by:
a new order becomes a `received` request (or waits in the clerk's queue when its patient or
its exam needs a person), a cancellation cancels the request (and its booking), a change
updates what may still change. A refusal (`OrderRefused`) names the HL7 field and the FHIR
element at fault and changes nothing: the caller rolls back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import (
    CompoundSelect,
    Date,
    Row,
    Select,
    bindparam,
    cast,
    insert,
    literal_column,
    null,
    select,
    union_all,
)
from sqlmodel import Session

from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.appointments.services import cancel_appointment
from booking_api.audit.services import Actor, record_audit
from booking_api.core.columns import utc_now
from booking_api.interop.hl7.problems import (
    APPLICATION_ERROR,
    DUPLICATE_KEY,
    TABLE_VALUE_NOT_FOUND,
    UNKNOWN_KEY,
    Location,
)
from booking_api.interop.incoming import IncomingOrder, OrderControl
from booking_api.interop.models import (
    HeldOrder,
    HeldOrderState,
    OrderSource,
    PlacerOrder,
)
from booking_api.interop.order_codes import exam_for, is_known_system
from booking_api.interop.settings_cache import SETTINGS_STAMP
from booking_api.patients.identity import (
    MatchKind,
    candidate_parameters,
    candidate_selects,
    judge_match,
    register_patient,
)
from booking_api.requests.models import Request
from booking_api.requests.services import (
    ReceivedRequest,
    RequestChangeRefused,
    receive_request,
    reevaluate_request,
    transition_request,
)
from domain.lifecycle import RequestState

CHANGEABLE = frozenset({RequestState.RECEIVED, RequestState.JUSTIFIED, RequestState.WAITING,
                        RequestState.APPOINTABLE, RequestState.APPOINTED})
"""A change (XO) may alter priority and clinical question until the exam happens; the exam
itself only while the request is still `received` (before vetting)."""


class OrderRefused(Exception):
    """An order that cannot be acted on; nothing was changed."""

    def __init__(self, location: Location, element: str, code: str, text: str) -> None:
        super().__init__(f"{location}: {text}")
        self.location = location
        self.element = element
        """The FHIR element at fault (ServiceRequest.code …)."""
        self.code = code
        self.text = text


@dataclass(frozen=True)
class OrderOutcome:
    placer_order_id: int
    request_id: int | None
    held_order_id: int | None
    note: str


def act_on_order(session: Session, order: IncomingOrder, source: OrderSource, actor: Actor,
                 now: datetime) -> OrderOutcome:
    """Do what the order's control code says."""
    if order.control is OrderControl.NEW:
        return receive_order(session, order, source, actor, now)
    placer = _placer(session, order)
    if order.control is OrderControl.CANCEL:
        return cancel_order(session, placer, order, actor, now)
    return change_order(session, placer, order, actor)


def receive_order(session: Session, order: IncomingOrder, source: OrderSource, actor: Actor,
                  now: datetime) -> OrderOutcome:
    """A new order: a received request, or a held order for a clerk (never dropped). What
    it needs to know (is its placer order known, who may its patient be, the settings
    stamp its code is mapped under) is read in one statement; what it writes is Core
    statements (no ORM objects, no flushes) unless it is held."""
    known = _new_order_facts(session, order)
    if any(row.kind == _PLACER for row in known):
        raise OrderRefused(Location("ORC", 2), "ServiceRequest.identifier", DUPLICATE_KEY,
                           f"placer order {order.placer_order_number} was already received "
                           "from this system; send XO to change it")
    stamp = next((row.id for row in known if row.kind == _STAMP), None)
    exam_code = _exam_code(session, order, stamp)
    match = judge_match(order.patient, known)
    if exam_code is None or match.kind is MatchKind.NEEDS_CLERK:
        placer = PlacerOrder(placer_system=order.placer_system,
                             placer_order_number=order.placer_order_number, source=source)
        session.add(placer)
        return _hold(session, placer, order, match.kind is MatchKind.NEEDS_CLERK,
                     exam_code is None, match.reason, match.candidates, actor)
    patient_id = match.patient_id or register_patient(session, order.patient)
    request = new_request(session, order, exam_code, patient_id, actor, now)
    placer_id = session.connection().execute(_INSERT_PLACER, {
        "o_system": order.placer_system, "o_number": order.placer_order_number,
        "o_source": source, "o_request": request.id, "o_now": utc_now()}).scalar_one()
    return OrderOutcome(placer_id, request.id, None,
                        f"request {request.booking_reference} received")


def _new_order_facts(session: Session, order: IncomingOrder) -> list[Row]:
    """One statement: the patient candidates (`identity.candidate_selects`), a 'placer' row
    when this placer order is known already, and the 'stamp' row (the settings stamp)."""
    statement = _new_order_lookup(candidate_selects(order.patient))
    return list(session.connection().execute(statement, {
        **candidate_parameters(order.patient), "o_system": order.placer_system,
        "o_number": order.placer_order_number}))


_PLACER, _STAMP = "placer", "stamp"


@cache
def _new_order_lookup(patient_parts: tuple[Select, ...]) -> CompoundSelect:
    no_date = cast(null(), Date).label("date_of_birth")
    placer = (select(literal_column(f"'{_PLACER}'").label("kind"), PlacerOrder.id, no_date)
              .where(PlacerOrder.placer_system == bindparam("o_system"),
                     PlacerOrder.placer_order_number == bindparam("o_number")))
    stamp = select(literal_column(f"'{_STAMP}'").label("kind"),
                   SETTINGS_STAMP.label("id"), no_date)
    return union_all(*patient_parts, placer, stamp)


_INSERT_PLACER = insert(PlacerOrder).values(
    placer_system=bindparam("o_system"), placer_order_number=bindparam("o_number"),
    source=bindparam("o_source"), request_id=bindparam("o_request"), cancelled=False,
    created_at=bindparam("o_now"), updated_at=bindparam("o_now")).returning(PlacerOrder.id)


def cancel_order(session: Session, placer: PlacerOrder, order: IncomingOrder, actor: Actor,
                 now: datetime) -> OrderOutcome:
    """The placer withdrew the order: its booking is cancelled and the request with it."""
    reason = f"cancelled by the referrer: {order.reason or 'no reason given'}"
    if placer.cancelled:
        return OrderOutcome(placer.id or 0, placer.request_id, None, "already cancelled")
    placer.cancelled, placer.updated_at = True, utc_now()
    session.add(placer)
    if placer.request_id is None:
        held = session.scalars(select(HeldOrder).where(
            HeldOrder.placer_order_id == placer.id)).one()
        held.state, held.resolution = HeldOrderState.DISCARDED, reason
        held.resolved_by, held.resolved_at = actor.name, now
        session.add(held)
        session.flush()
        return OrderOutcome(placer.id or 0, None, held.id, "held order discarded")
    request = session.get(Request, placer.request_id, with_for_update=True)
    assert request is not None
    booked = session.scalars(select(Appointment).where(
        Appointment.request_id == request.id,
        Appointment.state.in_(ACTIVE_STATES))).first()  # type: ignore[attr-defined]
    if booked is not None:
        cancel_appointment(session, actor, booked.id or 0, reason, now=now)
    _transition(session, request, RequestState.CANCELLED, actor, reason)
    session.flush()
    return OrderOutcome(placer.id or 0, request.id, None, "request cancelled")


def change_order(session: Session, placer: PlacerOrder, order: IncomingOrder,
                 actor: Actor) -> OrderOutcome:
    """The placer changed the order: priority and clinical question, or (before vetting)
    the exam. A held order takes the new details as they are."""
    if placer.cancelled:
        raise OrderRefused(Location("ORC", 2), "ServiceRequest.identifier", APPLICATION_ERROR,
                           f"placer order {placer.placer_order_number} was cancelled")
    if placer.request_id is None:
        held = session.scalars(select(HeldOrder).where(
            HeldOrder.placer_order_id == placer.id)).one()
        held.order_data = order.to_json()
        session.add(held)
        return OrderOutcome(placer.id or 0, None, held.id, "held order updated")
    request = session.get(Request, placer.request_id, with_for_update=True)
    assert request is not None
    if RequestState(request.state) not in CHANGEABLE:
        raise OrderRefused(Location("ORC", 1), "ServiceRequest.status", APPLICATION_ERROR,
                           f"the request is {request.state}; it can no longer change")
    before = {"priority": str(request.priority), "exam_code": request.exam_code,
              "clinical_question": request.clinical_question}
    exam_code = _exam_code(session, order) if order.code else request.exam_code
    if exam_code != request.exam_code:
        if exam_code is None or RequestState(request.state) is not RequestState.RECEIVED:
            raise OrderRefused(Location("OBR", 4), "ServiceRequest.code", APPLICATION_ERROR,
                               "the exam can change only before vetting and only to a mapped "
                               "code; cancel this order and send a new one")
        request.exam_code = exam_code
    request.priority = order.priority
    request.clinical_question = order.clinical_question or request.clinical_question
    request.updated_at = utc_now()
    session.add(request)
    record_audit(session, actor, "request.changed", "request", request.id or 0, before=before,
                 after={"priority": str(request.priority), "exam_code": request.exam_code,
                        "clinical_question": request.clinical_question},
                 reason=order.reason or "changed by the referrer")
    session.flush()
    reevaluate_request(session, request)  # a new priority can change the rules' verdict
    return OrderOutcome(placer.id or 0, request.id, None, "request changed")


def _exam_code(session: Session, order: IncomingOrder, stamp: int | None = None) -> str | None:
    assert order.code is not None
    if not is_known_system(session, order.code.code_system, stamp):
        raise OrderRefused(Location("OBR", 4, 3), "ServiceRequest.code.coding.system",
                           TABLE_VALUE_NOT_FOUND,
                           f"coding system '{order.code.code_system}' is not mapped here; "
                           "send a NICIP or SNOMED CT code, or a local code agreed with the "
                           "network")
    return exam_for(session, order.code, stamp)


def _hold(session: Session, placer: PlacerOrder, order: IncomingOrder, needs_patient: bool,
          needs_exam: bool, match_reason: str, candidates: tuple[int, ...],
          actor: Actor) -> OrderOutcome:
    reasons = []
    if needs_patient:
        reasons.append(f"patient: {match_reason}")
    if needs_exam:
        assert order.code is not None
        reasons.append(f"exam: order code {order.code.code} ({order.code.code_system}) maps "
                       "to no exam")
    session.flush()
    held = HeldOrder(placer_order_id=placer.id or 0, needs_patient=needs_patient,
                     needs_exam=needs_exam, reason="; ".join(reasons),
                     candidates=list(candidates), order_data=order.to_json())
    session.add(held)
    session.flush()
    record_audit(session, actor, "order.held", "held_order", held.id or 0,
                 after={"needs_patient": needs_patient, "needs_exam": needs_exam},
                 reason=held.reason)
    return OrderOutcome(placer.id or 0, None, held.id,
                        f"held for a clerk ({held.reason})")


def new_request(session: Session, order: IncomingOrder, exam_code: str, patient_id: int,
                actor: Actor, now: datetime) -> ReceivedRequest:
    return receive_request(session, actor,
                           f"order {order.placer_order_number} from {order.placer_system}",
                           patient_id=patient_id, exam_code=exam_code, priority=order.priority,
                           received_at=order.ordered_at or now, referrer=order.referrer,
                           clinical_question=order.clinical_question)


def _find_placer(session: Session, order: IncomingOrder) -> PlacerOrder | None:
    return session.scalars(select(PlacerOrder).where(
        PlacerOrder.placer_system == order.placer_system,
        PlacerOrder.placer_order_number == order.placer_order_number)
        .with_for_update()).first()


def _placer(session: Session, order: IncomingOrder) -> PlacerOrder:
    placer = _find_placer(session, order)
    if placer is None:
        raise OrderRefused(Location("ORC", 2), "ServiceRequest.identifier", UNKNOWN_KEY,
                           f"no order {order.placer_order_number} was received from "
                           f"{order.placer_system}")
    return placer


def _transition(session: Session, request: Request, target: RequestState, actor: Actor,
                reason: str) -> None:
    try:
        transition_request(session, request, target, actor, reason)
    except RequestChangeRefused as refused:
        raise OrderRefused(Location("ORC", 1), "ServiceRequest.status", APPLICATION_ERROR,
                           str(refused)) from refused

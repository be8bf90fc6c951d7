"""A request entered by hand (an order that came on paper): the patient found by NHS number
(with the date of birth agreeing) or registered new, then the request received like any
other (`requests.services.receive_request`: its event, audit row and booking reference), in
one transaction. Demographics that only resemble a known patient are refused for a person
to resolve, never merged (hazard H-INT-01)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from booking_api.audit.services import Actor
from booking_api.core.db import Database
from booking_api.core.errors import InvalidInput
from booking_api.patients.identity import MatchKind, PatientDetails, match_patient, register_patient
from booking_api.requests.services import receive_request
from domain.vocabulary import Priority


@dataclass(frozen=True)
class PaperOrder:
    """A checked order (NHS number normalised, every field valid)."""

    patient: PatientDetails
    exam_code: str
    priority: Priority
    referrer: str
    site_id: str
    clinical_question: str | None
    due_date: date | None = None


def receive_paper_order(db: Database, actor: Actor, order: PaperOrder, *,
                        now: datetime) -> int:
    """The new request's id; InvalidInput naming the field when the patient cannot be
    matched safely (nothing is written)."""
    with db.transaction() as session:
        match = match_patient(session, order.patient)
        if match.kind is MatchKind.MATCHED:
            patient_id = match.patient_id
        elif match.kind is MatchKind.NEW:
            patient_id = register_patient(session, order.patient)
        elif order.patient.nhs_number and match.candidates and match.reason.startswith(
                "the NHS number"):
            raise InvalidInput("This NHS number belongs to a patient with a different date of "
                               "birth: check both against the order", "nhs-number")
        else:
            raise InvalidInput("A patient with this name and date of birth is already known: "
                               "enter their NHS number so the order is matched safely",
                               "nhs-number")
        assert patient_id is not None
        return receive_request(
            session, actor, "entered by hand from a paper order", patient_id=patient_id,
            exam_code=order.exam_code, priority=order.priority, received_at=now,
            due_date=order.due_date, referrer=order.referrer,
            clinical_question=order.clinical_question, site_id=order.site_id).id

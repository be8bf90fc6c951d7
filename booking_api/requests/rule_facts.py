"""Turning a request's rows into the facts the appointability rules read: derived facts from
the request, its protocol, exam and patient, overlaid by the facts recorded for it (the latest
of each name). The one place where database rows meet `slot_rules.facts`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import date
from typing import Any

from sqlmodel import Session, select

from booking_api.core.columns import split_codes
from booking_api.network.models import ExamType as ExamTypeRow
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from booking_api.requests.rules_models import RequestFact, RequestProtocol, RuleOverride
from domain.exams import ExamType
from domain.lifecycle import RequestState
from domain.vocabulary import Capability
from slot_rules.facts import FactError, FactType, check_facts, fact_named
from slot_rules.overrides import Override

APPOINTABILITY = "appointability"


def request_facts(session: Session, request: Request, today: date) -> dict[str, object]:
    """Every fact the rules may ask about this request that the service knows."""
    patient = session.get(Patient, request.patient_id)
    protocol = session.get(RequestProtocol, request.id)
    exam = exam_type(session, protocol.exam_code if protocol else request.exam_code)
    derived: dict[str, object] = {
        "age_years": _age(patient.date_of_birth, today) if patient else None,
        "vetting_complete": request.vetted_at is not None,
        "vetting_outcome": _vetting_outcome(request),
        "protocol_assigned": bool(protocol and protocol.protocol.strip()),
        "exam_code": exam.code, "modality": exam.modality.value,
        "exam_family": exam.family.value,
        "has_contrast": protocol.contrast if protocol else exam.contrast,
        "sedation": protocol.sedation if protocol else False,
        "ionising_pelvis_abdomen": exam.pelvis_or_abdomen,
        "prep_notice_days": exam.min_notice_days,
        "priority": request.priority.value, "due_date": request.due_date,
        "latest_date": request.latest_date, "self_booking": True,
    }
    if patient is not None:
        derived |= {
            "contact_phone": patient.phone, "contact_email": patient.email,
            "interpreter_needed": patient.interpreter_language is not None,
            "interpreter_language": patient.interpreter_language,
            "transport_needed": patient.needs_transport,
        }
    facts = {name: value for name, value in derived.items() if value is not None}
    return facts | recorded_facts(session, request.id)


def recorded_facts(session: Session, request_id: int) -> dict[str, object]:
    """The latest recorded value of each fact name for a request."""
    rows = session.exec(select(RequestFact).where(RequestFact.request_id == request_id)
                        .order_by(RequestFact.recorded_at, RequestFact.id)).all()
    latest: dict[str, object] = {}
    for row in rows:
        latest[row.name] = decode_fact(row.name, row.value)
    return {name: value for name, value in latest.items() if value is not None}


def encode_fact(name: str, value: object) -> dict[str, Any]:
    """Check a fact against the registry (FactError if wrong) and store it as JSON."""
    check_facts({name: value})
    if isinstance(value, date):
        return {"value": value.isoformat()}
    return {"value": value}


def decode_fact(name: str, stored: Mapping[str, Any]) -> object:
    value = stored.get("value")
    if value is not None and fact_named(name).type is FactType.DATE:
        return date.fromisoformat(value)
    return value


def parse_fact_value(name: str, text: str) -> object:
    """A fact value typed as text (CLI, form) converted to the fact's type; FactError if not."""
    fact = fact_named(name)
    try:
        value: object = {
            FactType.BOOLEAN: lambda t: {"yes": True, "true": True, "no": False,
                                         "false": False}[t.strip().lower()],
            FactType.INTEGER: int, FactType.NUMBER: float, FactType.DATE: date.fromisoformat,
        }.get(fact.type, str)(text)
    except (KeyError, ValueError):
        raise FactError(name, f"'{text}' is not a {fact.type}") from None
    check_facts({name: value})
    return value


def request_overrides(session: Session, request_id: int,
                      ruleset: str = APPOINTABILITY) -> list[Override]:
    rows = session.exec(select(RuleOverride).where(RuleOverride.request_id == request_id,
                                                   RuleOverride.ruleset == ruleset)).all()
    return [Override(row.rule_id, row.role, row.actor, row.reason) for row in rows]


def exam_type(session: Session, code: str) -> ExamType:
    """The exam as the domain describes it, from the service's exam_type table."""
    row = session.get(ExamTypeRow, code)
    if row is None:
        raise LookupError(f"exam type '{code}' is not in the catalogue")
    names = {f.name for f in fields(ExamType)}
    values = {name: getattr(row, name) for name in names if name != "required_capabilities"}
    return ExamType(**values, required_capabilities=frozenset(
        Capability(code) for code in split_codes(row.required_capabilities)))


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _vetting_outcome(request: Request) -> str:
    if request.state is RequestState.REJECTED:
        return "rejected"
    return "justified" if request.vetted_at is not None else "pending"

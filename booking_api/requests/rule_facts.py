"""Turning a request's rows into the facts the appointability rules read: derived facts from
the request, its protocol, exam and patient, overlaid by the facts recorded for it (the latest
of each name). The one place where database rows meet `slot_rules.facts`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

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
    return _derived_facts(request, patient, protocol, exam, today) | recorded_facts(
        session, request.id)


def facts_of_requests(session: Session, requests: Sequence[Request],
                      today: date) -> dict[int, dict[str, object]]:
    """`request_facts` of many requests at once, in four queries whatever their number (a
    backfill wave judges dozens of candidates as it sends; one round trip each would be
    most of its time)."""
    ids = [request.id for request in requests if request.id is not None]
    if not ids:
        return {}
    patients = {row.id: row for row in session.exec(select(Patient).where(
        col(Patient.id).in_(sorted({r.patient_id for r in requests}))))}
    protocols = {row.request_id: row for row in session.exec(select(RequestProtocol).where(
        col(RequestProtocol.request_id).in_(ids)))}
    codes = {protocols[r.id].exam_code if r.id in protocols else r.exam_code for r in requests}
    exams = {row.code: _domain_exam(row) for row in session.exec(select(ExamTypeRow).where(
        col(ExamTypeRow.code).in_(sorted(codes))))}
    recorded = _recorded_of(session, ids)
    facts = {}
    for request in requests:
        protocol = protocols.get(request.id)
        code = protocol.exam_code if protocol else request.exam_code
        if code not in exams:
            raise LookupError(f"exam type '{code}' is not in the catalogue")
        facts[request.id] = _derived_facts(request, patients.get(request.patient_id), protocol,
                                           exams[code], today) | recorded.get(request.id, {})
    return facts


def _derived_facts(request: Request, patient: Patient | None,
                   protocol: RequestProtocol | None, exam: ExamType,
                   today: date) -> dict[str, object]:
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
    return {name: value for name, value in derived.items() if value is not None}


def recorded_facts(session: Session, request_id: int) -> dict[str, object]:
    """The latest recorded value of each fact name for a request."""
    return _recorded_of(session, [request_id]).get(request_id, {})


def _recorded_of(session: Session, request_ids: list[int]) -> dict[int, dict[str, object]]:
    rows = session.exec(select(RequestFact).where(col(RequestFact.request_id).in_(request_ids))
                        .order_by(RequestFact.recorded_at, RequestFact.id)).all()
    latest: dict[int, dict[str, object]] = {}
    for row in rows:
        latest.setdefault(row.request_id, {})[row.name] = decode_fact(row.name, row.value)
    return {request_id: {name: value for name, value in values.items() if value is not None}
            for request_id, values in latest.items()}


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
    return overrides_of_requests(session, [request_id], ruleset).get(request_id, [])


def overrides_of_requests(session: Session, request_ids: Sequence[int],
                          ruleset: str = APPOINTABILITY) -> dict[int, list[Override]]:
    """Each request's overrides of `ruleset`, in one query."""
    rows = session.exec(select(RuleOverride).where(col(RuleOverride.request_id).in_(request_ids),
                                                   RuleOverride.ruleset == ruleset)
                        .order_by(RuleOverride.id)).all()
    overrides: dict[int, list[Override]] = {}
    for row in rows:
        overrides.setdefault(row.request_id, []).append(
            Override(row.rule_id, row.role, row.actor, row.reason))
    return overrides


def exam_type(session: Session, code: str) -> ExamType:
    """The exam as the domain describes it, from the service's exam_type table."""
    row = session.get(ExamTypeRow, code)
    if row is None:
        raise LookupError(f"exam type '{code}' is not in the catalogue")
    return _domain_exam(row)


def _domain_exam(row: ExamTypeRow) -> ExamType:
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

"""Benchmark worlds' requests made appointable the way the rules decide it, in bulk: vetted
with a protocol, the facts their exam needs recorded, and a patient who can be invited. A
world that wrote `appointable` without these would be out of step with the rules, and the
service would (rightly) move a cancelled booking's request to `waiting`, which a benchmark
then mistakes for a slow or missing change."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import Session, col

from booking_api.requests.models import Request
from booking_api.requests.rule_facts import APPOINTABILITY, encode_fact
from booking_api.requests.rules_models import RequestFact, RequestProtocol, RuleOverride
from domain.exams import exam_catalogue
from domain.vocabulary import Modality, Priority
from slot_rules.overrides import OverrideRole

BENCH_VETTER = "vetting:bench.vetter"
BENCH_PHONE = "+447700900123"
"""A phone number from Ofcom's drama range: the contact the self-booking rule asks for."""


def ready_facts(exam_code: str, today: date) -> dict[str, object]:
    """What the referral and the patient's answers bring for this exam so that no
    appointability rule is left pending: the MRI safety questionnaire returned (no MR-unsafe
    implant), for contrast a recent eGFR and the kidney risk answers (no diabetes, no known
    renal impairment), the pregnancy status for an ionising pelvic or abdominal exam."""
    exam = exam_catalogue()[exam_code]
    facts: dict[str, object] = {}
    if exam.modality is Modality.MR:
        facts |= {"mri_questionnaire_returned": True, "mr_unsafe_implant": False}
    if exam.contrast:
        facts |= {"egfr_ml_min": 80.0, "egfr_date": today - timedelta(days=14),
                  "diabetes": False, "renal_impairment": False}
    if exam.pelvis_or_abdomen:
        facts["pregnancy_status_recorded"] = True
    return facts


def vet_in_bulk(session: Session, requests: Sequence[tuple[int, str]], vetted_at: datetime,
                today: date, invited_by_letter: Collection[int] = ()) -> None:
    """Vet (request id, exam code) pairs as a radiologist would: a standard protocol, the
    exam's facts recorded. Patients need a phone or email (`BENCH_PHONE`); for the requests
    in `invited_by_letter` (patients with neither) a clerk sets the contact rule aside."""
    if not requests:
        return
    catalogue = exam_catalogue()
    session.execute(insert(RequestProtocol), [
        {"request_id": request_id, "exam_code": code,
         "protocol": f"{catalogue[code].name}: standard protocol",
         "contrast": catalogue[code].contrast, "sedation": False, "priority": Priority.ROUTINE,
         "assigned_by": BENCH_VETTER, "assigned_at": vetted_at}
        for request_id, code in requests])
    facts = [{"request_id": request_id, "name": name, "value": encode_fact(name, value),
              "recorded_by": BENCH_VETTER, "recorded_at": vetted_at}
             for request_id, code in requests
             for name, value in ready_facts(code, today).items()]
    if facts:
        session.execute(insert(RequestFact), facts)
    if invited_by_letter:
        session.execute(insert(RuleOverride), [
            {"request_id": request_id, "ruleset": APPOINTABILITY,
             "rule_id": "self-booking-contact", "role": OverrideRole.CLERK,
             "actor": "clerk:bench.clerk", "at": vetted_at,
             "reason": "invited by letter with the booking reference"}
            for request_id in invited_by_letter])
    session.execute(update(Request).where(col(Request.id).in_([r for r, _ in requests]))
                    .values(vetted_by=BENCH_VETTER, vetted_at=vetted_at))

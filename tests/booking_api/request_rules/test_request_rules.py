"""The rules move requests by themselves when facts arrive; overrides are recorded, audited and
explained; hard stops hold; the explanation is served by the API and the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from booking_api.access.models import AccountRole
from booking_api.audit.models import AuditEvent
from booking_api.core.config import get_settings
from booking_api.core.db import transaction
from booking_api.requests.flows import (
    VettingProtocol,
    justify_request,
    record_request_fact,
    record_rule_override,
    reevaluate_open_requests,
)
from booking_api.requests.models import Request, RequestEvent
from booking_api.requests.rules_models import RuleOverride
from booking_api.requests.services import explain_request
from cdip_cli.main import app as cli
from domain.lifecycle import RequestState
from domain.vocabulary import Priority
from slot_rules.facts import FactError
from slot_rules.loading import shipped_appointability
from slot_rules.overrides import OverrideRefused
from tests.booking_api.access_support import MovableClock, add_staff, make_app, staff_headers
from tests.booking_api.request_rules.conftest import CLERK, RADIOLOGIST, TODAY

CT_WITH_CONTRAST = VettingProtocol(exam_code="CABPC", protocol="CT AP portal venous",
                                   contrast=True, sedation=False, priority=Priority.ROUTINE)
MRI_BRAIN = VettingProtocol(exam_code="MBRAI", protocol="MRI brain routine", contrast=False,
                            sedation=False, priority=Priority.ROUTINE)


def vetted(engine, request_id, protocol):
    with transaction(engine) as session:
        justify_request(session, request_id, protocol, RADIOLOGIST, TODAY)


def state_and_events(engine, request_id):
    with transaction(engine) as session:
        state = session.get(Request, request_id).state
        events = session.exec(select(RequestEvent).order_by(RequestEvent.id)).all()
    return state, [(e.actor, e.from_state, e.to_state, e.reason) for e in events]


def test_a_new_egfr_moves_the_waiting_request_to_appointable_by_itself(engine,
                                                                       received_request):
    vetted(engine, received_request, CT_WITH_CONTRAST)
    with transaction(engine) as session:
        result = record_request_fact(session, received_request, "egfr_date",
                                     TODAY - timedelta(days=20), CLERK, TODAY)
    state, events = state_and_events(engine, received_request)
    assert result.outcome == "appointable"
    assert state is RequestState.APPOINTABLE
    assert events[-1] == ("system:rules", RequestState.WAITING, RequestState.APPOINTABLE,
                          "rules appointability v2026.12.1: every rule met")
    with transaction(engine) as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "request.fact")).one()
    assert (audit.actor, audit.after) == ("clerk:jsmith",
                                          {"egfr_date": {"value": "2027-01-12"}})


def test_a_fact_of_the_wrong_type_is_refused_and_nothing_written(engine, received_request):
    # Every kind of bad fact is covered over the registry in tests/slot_rules; here: no write.
    vetted(engine, received_request, CT_WITH_CONTRAST)
    with pytest.raises(FactError, match="fact 'egfr_date'"), transaction(engine) as session:
        record_request_fact(session, received_request, "egfr_date", "2027-01-01", CLERK, TODAY)
    with transaction(engine) as session:
        facts = session.exec(select(AuditEvent).where(AuditEvent.action == "request.fact")).all()
    assert facts == []


def test_clerk_override_of_a_hard_stop_is_refused_and_nothing_written(engine, received_request):
    vetted(engine, received_request, MRI_BRAIN)
    with pytest.raises(OverrideRefused, match="a clerk may not override it"), \
            transaction(engine) as session:
        record_rule_override(session, received_request, "mri-safety-questionnaire", "clerk",
                             "patient says it is fine", CLERK, today=TODAY)
    with transaction(engine) as session:
        assert session.exec(select(RuleOverride)).all() == []
        assert session.exec(select(AuditEvent).where(
            AuditEvent.action == "request.override")).all() == []


def test_radiologist_override_is_recorded_audited_and_explained(engine, received_request):
    vetted(engine, received_request, MRI_BRAIN)
    with transaction(engine) as session:
        record_request_fact(session, received_request, "mr_unsafe_implant", False, CLERK, TODAY)
        result = record_rule_override(session, received_request, "mri-safety-questionnaire",
                                      "radiologist", "inpatient screened on the ward",
                                      RADIOLOGIST, today=TODAY)
    assert result.outcome == "appointable"
    with transaction(engine) as session:
        row = session.exec(select(RuleOverride)).one()
        audit = session.exec(select(AuditEvent).where(
            AuditEvent.action == "request.override")).one()
        explanation = explain_request(session, received_request, TODAY)
    assert (row.rule_id, row.role, row.actor, row.reason) == (
        "mri-safety-questionnaire", "radiologist", "radiologist:akhan",
        "inpatient screened on the ward")
    assert (audit.actor, audit.reason) == ("radiologist:akhan", "inpatient screened on the ward")
    verdict = next(r for r in explanation.rules if r.rule_id == "mri-safety-questionnaire")
    assert (verdict.status, verdict.overridden_by, verdict.override_role) == (
        "pass", "radiologist:akhan", "radiologist")
    assert verdict.reason.endswith(
        "overridden by radiologist:akhan (radiologist): inpatient screened on the ward")


def test_mr_unsafe_implant_holds_the_request_and_no_one_may_override_it(engine,
                                                                        received_request):
    vetted(engine, received_request, MRI_BRAIN)
    with transaction(engine) as session:
        record_request_fact(session, received_request, "mri_questionnaire_returned", True,
                            CLERK, TODAY)
        result = record_request_fact(session, received_request, "mr_unsafe_implant", True,
                                     CLERK, TODAY)
    assert result.outcome == "not_appointable"
    with pytest.raises(OverrideRefused, match="hard stop; no one may override it"), \
            transaction(engine) as session:
        record_rule_override(session, received_request, "mr-unsafe-implant", "radiologist",
                             "benefit outweighs risk", RADIOLOGIST, today=TODAY)
    state, _ = state_and_events(engine, received_request)
    assert state is RequestState.WAITING


def test_appointable_request_goes_back_to_waiting_when_a_fact_blocks_it(engine,
                                                                        received_request):
    vetted(engine, received_request, CT_WITH_CONTRAST)
    with transaction(engine) as session:
        record_request_fact(session, received_request, "egfr_date", TODAY, CLERK, TODAY)
        record_request_fact(session, received_request, "egfr_ml_min", 22.0, CLERK, TODAY)
    state, events = state_and_events(engine, received_request)
    assert state is RequestState.WAITING
    assert events[-1][3] == ("rules appointability v2026.12.1: not appointable "
                             "(contrast-egfr-low)")


def test_api_returns_every_rules_verdict_and_reason_to_staff(migrated_url, engine,
                                                             received_request):
    vetted(engine, received_request, CT_WITH_CONTRAST)
    add_staff(engine, "jsmith", AccountRole.CLERK)
    with TestClient(make_app(migrated_url, MovableClock())) as client:
        anonymous = client.get(f"/api/requests/{received_request}/rules")
        headers = staff_headers(client, "jsmith")
        body = client.get(f"/api/requests/{received_request}/rules", headers=headers).json()
        missing = client.get("/api/requests/999999/rules", headers=headers)
    assert anonymous.status_code == 401
    assert (body["state"], body["outcome"], body["pending"]) == (
        "waiting", "waiting", ["contrast-egfr-recent"])
    assert len(body["rules"]) == 11  # in force on the clock's 30 November (4 more from 1 Dec)
    egfr = next(r for r in body["rules"] if r["rule_id"] == "contrast-egfr-recent")
    assert egfr["status"] == "pending"
    assert "needs an eGFR from the last 3 months" in egfr["reason"]
    assert missing.status_code == 404


def test_cli_explains_a_request(monkeypatch, migrated_url, engine, received_request):
    vetted(engine, received_request, CT_WITH_CONTRAST)
    monkeypatch.setenv("CDIP_DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["rules", "explain", str(received_request)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"request {received_request} (waiting): waiting")
    assert "[PENDING] contrast-egfr-recent: Contrast with a kidney risk factor (age 70" in \
        result.output
    assert len(lines) == 1 + len(shipped_appointability().rules)  # the outcome, then each rule


def test_daily_sweep_makes_a_planned_test_appointable_six_weeks_before_it_is_due(
        engine, received_request):
    chest_planned = VettingProtocol(exam_code="XCHES", protocol="CXR PA", contrast=False,
                                    sedation=False, priority=Priority.PLANNED)
    with transaction(engine) as session:
        session.get(Request, received_request).due_date = TODAY + timedelta(days=60)
    vetted(engine, received_request, chest_planned)
    with transaction(engine) as session:
        too_early = reevaluate_open_requests(session, TODAY + timedelta(days=10))
        in_window = reevaluate_open_requests(session, TODAY + timedelta(days=18))
    state, events = state_and_events(engine, received_request)
    assert (too_early, in_window) == ({"moved": 0, "waiting": 1},
                                      {"moved": 1, "appointable": 1})
    assert state is RequestState.APPOINTABLE
    assert events[-1][:3] == ("system:rules", RequestState.WAITING, RequestState.APPOINTABLE)


def test_staff_vet_and_record_facts_over_http_and_the_request_moves(migrated_url, engine,
                                                                    received_request):
    add_staff(engine, "akhan", AccountRole.VETTING)
    add_staff(engine, "jsmith", AccountRole.CLERK)
    base = f"/api/staff/requests/{received_request}"
    with TestClient(make_app(migrated_url, MovableClock())) as client:
        vetting = staff_headers(client, "akhan") | {"Idempotency-Key": "vet-1"}
        clerk = staff_headers(client, "jsmith")
        justified = client.post(f"{base}/vetting", headers=vetting, json={
            "decision": "justify", "exam_code": "CABPC", "protocol": "CT AP portal venous",
            "contrast": True, "priority": "routine"})
        bad_date = client.post(f"{base}/facts", headers=clerk | {"Idempotency-Key": "f-0"},
                               json={"name": "egfr_date", "value": "last week"})
        egfr = client.post(f"{base}/facts", headers=clerk | {"Idempotency-Key": "f-1"},
                           json={"name": "egfr_date", "value": "2026-11-20"})
    assert (justified.status_code, justified.json()["state"]) == (200, "waiting")
    assert (bad_date.status_code, bad_date.json()["field"]) == (422, "value")
    assert (egfr.status_code, egfr.json()["state"], egfr.json()["outcome"]) == (
        200, "appointable", "appointable")


def test_staff_roles_are_checked_before_vetting_or_overriding(migrated_url, engine,
                                                              received_request):
    add_staff(engine, "jsmith", AccountRole.CLERK)
    base = f"/api/staff/requests/{received_request}"
    with TestClient(make_app(migrated_url, MovableClock())) as client:
        clerk = staff_headers(client, "jsmith")
        vetting = client.post(f"{base}/vetting", headers=clerk | {"Idempotency-Key": "v-1"},
                              json={"decision": "reject", "reason": "not indicated"})
        as_radiologist = client.post(
            f"{base}/overrides", headers=clerk | {"Idempotency-Key": "o-1"},
            json={"rule_id": "contrast-egfr-recent", "role": "radiologist", "reason": "ok"})
        hard_stop = client.post(
            f"{base}/overrides", headers=clerk | {"Idempotency-Key": "o-2"},
            json={"rule_id": "mr-unsafe-implant", "role": "clerk", "reason": "ok"})
    assert vetting.status_code == 403
    assert (as_radiologist.status_code, as_radiologist.json()["field"]) == (403, "role")
    assert (hard_stop.status_code, hard_stop.json()["code"]) == (403, "override_not_allowed")
    assert "no one may override it" in hard_stop.json()["detail"]

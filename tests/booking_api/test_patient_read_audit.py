"""Who looked at whom: every staff read of part of a patient's record through the API (an
appointment, their appointments, a request with its facts and rules, their messages, the
FHIR Patient, ServiceRequest and Appointment reads) leaves one access-log row naming who,
when, which patient, what and the route; a patient reading their own record leaves none;
administrators read the log by patient over HTTP and with `cdip audit reads`, and reading it
is logged too. Nothing about the patient reaches the process's logs."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from booking_api.access.models import AccountRole
from booking_api.appointments import services
from booking_api.audit.models import PatientRecordRead
from booking_api.audit.reads import ReadAuditNotWired, Reader
from booking_api.core.config import get_settings
from booking_api.core.db import make_session_factory, read_only, transaction
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from cdip_cli.main import app as cli
from tests.booking_api.access_support import MovableClock, add_staff, make_app, staff_headers
from tests.booking_api.booking_world import (
    CLERK,
    NOW,
    World,
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]


@dataclass
class Api:
    client: TestClient
    world: World
    clerk: dict[str, str]
    admin: dict[str, str]
    appointment_id: int

    def patient_headers(self, index: int) -> dict[str, str]:
        with transaction(self.world.engine) as session:
            request = session.get(Request, self.world.requests[index])
            born = session.get(Patient, request.patient_id).date_of_birth
            reference = request.booking_reference
        answer = self.client.post("/api/auth/patient/sign-in", json={
            "booking_reference": reference, "date_of_birth": born.isoformat()})
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def api(booking_engine: Engine, tiny_network, tiny_catalogue) -> Iterator[Api]:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=2)
    with transaction(booking_engine) as session:
        booked = services.book_slot(session, CLERK, world.requests[0],
                                    world.slots["S1-XR1"][0], now=NOW)
    url = booking_engine.url.render_as_string(hide_password=False)
    with TestClient(make_app(url, MovableClock())) as client:
        add_staff(booking_engine, "cora.clerk", AccountRole.CLERK)
        add_staff(booking_engine, "ada.admin", AccountRole.ADMIN)
        yield Api(client, world, staff_headers(client, "cora.clerk"),
                  staff_headers(client, "ada.admin"), booked.id)


def _log(engine: Engine) -> list[PatientRecordRead]:
    with transaction(engine) as session:
        return list(session.scalars(select(PatientRecordRead).order_by(PatientRecordRead.id)))


def test_a_clerk_reading_an_appointment_is_logged_with_who_what_whom_and_route(
        api: Api) -> None:
    answer = api.client.get(f"/api/appointments/{api.appointment_id}", headers=api.clerk)

    assert answer.status_code == 200
    [row] = _log(api.world.engine)
    assert (row.patient_id, row.actor, row.role, row.what, row.item_id, row.route) == (
        api.world.patients[0], "clerk:cora.clerk", "clerk", "appointment",
        str(api.appointment_id), "GET /api/appointments/{appointment_id}")
    assert row.correlation_id == answer.headers["x-request-id"]
    assert row.at is not None


@pytest.mark.parametrize(("path", "what", "route"), [
    ("/api/appointments?patient_id={patient}", "appointments", "GET /api/appointments"),
    ("/api/requests/{request}/rules", "request", "GET /api/requests/{request_id}/rules"),
    ("/api/staff/messages?patient_id={patient}", "messages", "GET /api/staff/messages"),
    ("/fhir/Patient/{patient}", "patient", "GET /fhir/Patient/{patient_id}"),
    ("/fhir/ServiceRequest/{request}", "request", "GET /fhir/ServiceRequest/{request_id}"),
    ("/fhir/Appointment/{appointment}", "appointment",
     "GET /fhir/Appointment/{appointment_id}"),
    ("/fhir/Appointment?patient=Patient/{patient}", "appointments", "GET /fhir/Appointment"),
])
def test_every_staff_read_of_a_patients_record_is_logged(api: Api, path: str, what: str,
                                                         route: str) -> None:
    url = path.format(patient=api.world.patients[0], request=api.world.requests[0],
                      appointment=api.appointment_id)

    answer = api.client.get(url, headers=api.clerk)

    assert answer.status_code == 200, answer.text
    assert [(r.patient_id, r.what, r.route) for r in _log(api.world.engine)] == [
        (api.world.patients[0], what, route)]


def test_a_change_that_answers_with_the_record_logs_the_read_with_the_change(
        api: Api) -> None:
    add_staff(api.world.engine, "vic.vetting", AccountRole.VETTING)
    answer = api.client.post(
        f"/api/staff/requests/{api.world.requests[1]}/facts",
        json={"name": "egfr_date", "value": "2026-11-20"},
        headers={**staff_headers(api.client, "vic.vetting"),
                 "Idempotency-Key": str(uuid.uuid4())})

    assert answer.status_code == 200, answer.text
    assert [(r.patient_id, r.actor, r.what) for r in _log(api.world.engine)] == [
        (api.world.patients[1], "vetting:vic.vetting", "request")]


def test_a_patient_reading_their_own_record_is_not_logged(api: Api) -> None:
    mine = api.patient_headers(0)

    assert api.client.get(f"/api/appointments/{api.appointment_id}",
                          headers=mine).status_code == 200
    assert api.client.get("/api/appointments", headers=mine).status_code == 200
    assert _log(api.world.engine) == []


def test_a_read_that_finds_nothing_logs_nothing(api: Api) -> None:
    assert api.client.get("/api/appointments/999999", headers=api.clerk).status_code == 404
    assert _log(api.world.engine) == []


def test_an_administrator_reads_a_patients_access_log_newest_first(api: Api) -> None:
    patient = api.world.patients[0]
    api.client.get(f"/api/appointments/{api.appointment_id}", headers=api.clerk)
    api.client.get(f"/api/appointments?patient_id={patient}", headers=api.clerk)
    api.client.get(f"/api/appointments?patient_id={api.world.patients[1]}", headers=api.clerk)

    log = api.client.get(f"/api/patients/{patient}/access-log", headers=api.admin)
    older = api.client.get(f"/api/patients/{patient}/access-log?before_id="
                           f"{log.json()[0]['id']}&limit=1", headers=api.admin)

    assert log.status_code == 200
    assert [(e["what"], e["actor"]) for e in log.json()] == [
        ("appointments", "clerk:cora.clerk"), ("appointment", "clerk:cora.clerk")]
    assert [e["what"] for e in older.json()] == ["appointment"]
    whats = [r.what for r in _log(api.world.engine) if r.patient_id == patient]
    assert whats.count("access-log") == 2  # looking at the log is logged too


def test_only_administrators_read_the_access_log(api: Api) -> None:
    answer = api.client.get(f"/api/patients/{api.world.patients[0]}/access-log",
                            headers=api.clerk)

    assert answer.status_code == 403
    assert _log(api.world.engine) == []


def test_cdip_audit_reads_lists_a_patients_access_log(api: Api,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    api.client.get(f"/api/appointments/{api.appointment_id}", headers=api.clerk)
    monkeypatch.setenv("CDIP_DATABASE_URL",
                       api.world.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CDIP_ENVIRONMENT", "test")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["audit", "reads", "--patient",
                                          str(api.world.patients[0]), "--json"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    assert [(e["what"], e["actor"]) for e in json.loads(result.output)] == [
        ("appointment", "clerk:cora.clerk")]
    assert _log(api.world.engine)[-1].route == "cdip audit reads"


def test_staff_reads_put_nothing_about_the_patient_in_the_logs(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    patient = api.world.patients[0]
    with transaction(api.world.engine) as session:
        person = session.get(Patient, patient)
        private = (person.family_name, person.date_of_birth.isoformat())
    caplog.set_level(logging.DEBUG)

    api.client.get(f"/api/appointments/{api.appointment_id}", headers=api.clerk)
    api.client.get(f"/fhir/Patient/{patient}", headers=api.clerk)

    assert len(_log(api.world.engine)) == 2
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert not [value for value in private if value in logged]


def test_a_read_only_session_with_nowhere_to_log_refuses_a_staff_read(
        api: Api) -> None:
    unwired = make_session_factory(read_only(api.world.engine))
    with unwired() as session, pytest.raises(ReadAuditNotWired):
        services.get_appointment(session, api.appointment_id,
                                 reader=Reader(CLERK, "test"))

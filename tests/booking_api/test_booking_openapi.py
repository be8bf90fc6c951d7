"""Schemathesis over the booking API's OpenAPI schema, on SQLite and PostgreSQL: whatever a
schema-valid (or nearly valid) request carries, signed in as an administrator or as a patient,
the service never answers 5xx. Bounded: a few examples per operation."""

from __future__ import annotations

import re

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine

from booking_api.access.models import AccountRole
from booking_api.core.db import transaction
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from tests.booking_api.access_support import MovableClock, add_staff, make_app, staff_headers
from tests.booking_api.booking_world import (
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]
BOOKING_PATHS = re.compile(r"^/api/(appointments|slots|holds|staff/bookings|requests/\{[a-z_]+\}"
                           r"/slots)")
EXAMPLES_PER_OPERATION = 6


def _patient_headers(client: TestClient, engine: Engine, request_id: int) -> dict[str, str]:
    with transaction(engine) as session:
        request = session.get(Request, request_id)
        born = session.get(Patient, request.patient_id).date_of_birth
        reference = request.booking_reference
    token = client.post("/api/auth/patient/sign-in", json={
        "booking_reference": reference, "date_of_birth": born.isoformat()}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_no_booking_operation_answers_a_server_error(
        booking_engine: Engine, tiny_network, tiny_catalogue) -> None:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=2)
    app = make_app(booking_engine.url.render_as_string(hide_password=False), MovableClock())
    add_staff(booking_engine, "ada.admin", AccountRole.ADMIN)
    with TestClient(app) as client:
        callers = {"admin": staff_headers(client, "ada.admin"),
                   "patient": _patient_headers(client, booking_engine, world.requests[0])}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if BOOKING_PATHS.match(op.path)]
    assert len(mine) >= 14

    for operation in mine:
        for caller, headers in callers.items():
            _never_a_server_error(operation, caller, headers)


def _never_a_server_error(operation, caller: str, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call(headers={**(case.headers or {}), **headers})
        assert response.status_code < 500, (
            f"{operation.method.upper()} {operation.path} as {caller}: "
            f"{response.status_code} {response.text[:300]}")

    check()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

"""Input that once gave server errors, on SQLite and PostgreSQL: lone surrogates and NUL in
text, NaN and the infinities where a date or number belongs, ids sent as strings or booleans,
dates at the calendar's edge. Each is a 422 naming the field, and changes nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from booking_api.access.models import AccountRole
from booking_api.appointments.models import Appointment
from booking_api.audit.models import AuditEvent
from booking_api.core.db import transaction
from tests.booking_api.access_support import (
    BORN,
    REFERENCE,
    add_staff,
    admin,
    client,
    clock,
    engine,
    migrated_url,
    shared_database,
    staff_headers,
)

__all__ = ["admin", "client", "clock", "engine", "migrated_url", "shared_database"]

SURROGATE = "\ud800"
NUL = "a\x00b"
NAN, INFINITY = float("nan"), float("inf")


def _send(client: TestClient, method: str, path: str, body: Any,
          headers: dict[str, str] | None = None) -> Any:
    """`body` as JSON the way a hostile client writes it: surrogates escaped (`\\ud800`),
    NaN and Infinity as bare words (Python's json module does both)."""
    return client.request(method, path, content=json.dumps(body), headers={
        "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex,
        **(headers or {})})


def _changes(engine: Engine) -> tuple[int, int]:
    with transaction(engine) as session:
        return (session.scalar(select(func.count()).select_from(Appointment)) or 0,
                session.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.action != "staff.sign_in")) or 0)


def _assert_names(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["field"] == field
    assert ".".join(str(part) for part in answer["detail"][0]["loc"][1:]) in (field, "")


@pytest.mark.parametrize(("body", "field"), [
    ({"username": SURROGATE, "password": "x"}, "username"),
    ({"username": "ada.admin", "password": SURROGATE}, "password"),
    ({"username": "ada.admin", "password": NUL}, "password"),
    ({"username": "ada.admin", SURROGATE: "x", "password": "x"}, "body"),
], ids=["username-surrogate", "password-surrogate", "password-nul", "key-surrogate"])
def test_unreadable_staff_credentials_are_named_not_a_server_error(
        client: TestClient, body: dict[str, Any], field: str) -> None:
    response = _send(client, "POST", "/api/auth/staff/sign-in", body)

    _assert_names(response, field)


@pytest.mark.parametrize(("reference", "born", "field"), [
    (SURROGATE, BORN, "booking_reference"),
    (REFERENCE + "\x00", BORN, "booking_reference"),
    (REFERENCE, NAN, "date_of_birth"),
    (REFERENCE, INFINITY, "date_of_birth"),
    (REFERENCE, -INFINITY, "date_of_birth"),
    (REFERENCE, "9999-12-31", "date_of_birth"),
    (REFERENCE, "0001-01-01", "date_of_birth"),
], ids=["reference-surrogate", "reference-nul", "nan", "infinity", "minus-infinity",
        "year-9999", "year-1"])
def test_unreadable_patient_credentials_are_named_not_a_server_error(
        client: TestClient, one_slot: dict[str, int], reference: str, born: Any,
        field: str) -> None:
    response = _send(client, "POST", "/api/auth/patient/sign-in",
                     {"booking_reference": reference, "date_of_birth": born})

    _assert_names(response, field)


def _writes(ids: dict[str, int]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, path, body, field at fault) of the staff writes, each with one bad value."""
    request, slot = ids["request_a"], ids["slot"]
    booking = {"request_id": request, "slot_id": slot, "reason": "phoned in"}
    return [
        ("POST", f"/api/staff/requests/{request}/facts",
         {"name": "egfr", "value": NUL}, "value"),
        ("POST", f"/api/staff/requests/{request}/facts",
         {"name": "egfr", "value": NAN}, "value"),
        ("POST", f"/api/staff/requests/{request}/facts",
         {"name": "egfr", "value": INFINITY}, "value"),
        ("POST", f"/api/staff/requests/{request}/facts",
         {"name": SURROGATE, "value": 60}, "name"),
        ("POST", f"/api/staff/requests/{request}/vetting",
         {"decision": "reject", "reason": NUL}, "reason"),
        ("POST", f"/api/staff/requests/{request}/vetting",
         {"decision": "justify", "exam_code": "XCHES", "protocol": NUL,
          "priority": "routine"}, "protocol"),
        ("POST", f"/api/staff/requests/{request}/overrides",
         {"rule_id": "contrast", "role": "clerk", "reason": NUL}, "reason"),
        ("POST", "/api/staff/bookings", booking | {"reason": NUL}, "reason"),
        ("POST", "/api/staff/bookings", booking | {"reason": SURROGATE}, "reason"),
        ("POST", "/api/staff/bookings", booking | {"overrides": [
            {"rule_id": "contrast", "reason": NUL}]}, "overrides.0.reason"),
        ("POST", "/api/staff/bookings", booking | {"request_id": str(request)}, "request_id"),
        ("POST", "/api/staff/bookings", booking | {"slot_id": True}, "slot_id"),
        ("POST", "/api/appointments/holds", {"request_id": str(request), "slot_id": slot},
         "request_id"),
        ("POST", "/api/appointments/holds", {"request_id": True, "slot_id": slot},
         "request_id"),
        ("POST", "/api/appointments/holds", {"request_id": request, "slot_id": 1.5},
         "slot_id"),
        ("POST", "/api/appointments/1/cancel", {"reason": NUL}, "reason"),
        ("POST", "/api/appointments/1/reschedule", {"slot_id": slot, "reason": NUL},
         "reason"),
        ("POST", "/api/appointments/1/reschedule", {"slot_id": "1", "reason": "x"},
         "slot_id"),
        ("POST", f"/api/slots/{slot}/block", {"reason": NUL}, "reason"),
        ("POST", f"/api/slots/{slot}/block", {"reason": SURROGATE}, "reason"),
        ("POST", "/api/staff/held-orders/1/resolution", {"reason": NUL}, "reason"),
        ("POST", "/api/staff/held-orders/1/resolution",
         {"reason": "matched", "patient_id": "7"}, "patient_id"),
        ("POST", "/api/admin/staff", {"username": "new.starter", "display_name": SURROGATE,
                                      "role": "clerk", "password": "a long phrase"},
         "display_name"),
        ("PATCH", "/api/admin/staff/ada.admin", {"display_name": NUL}, "display_name"),
    ]


def test_bad_text_numbers_and_ids_in_writes_are_named_and_change_nothing(
        client: TestClient, admin: dict[str, str], engine: Engine,
        one_slot: dict[str, int]) -> None:
    add_staff(engine, "vera.vetting", AccountRole.VETTING)
    vetting = staff_headers(client, "vera.vetting")
    before = _changes(engine)

    for method, path, body, field in _writes(one_slot):
        response = _send(client, method, path, body, vetting if "/vetting" in path else admin)
        assert response.status_code == 422, (path, body, response.text)
        assert response.json()["field"] == field, (path, body, response.text)

    assert _changes(engine) == before


@pytest.mark.parametrize(("query", "field"), [
    ("to_date=9999-12-31", "to_date"),
    ("from_date=0001-01-01", "from_date"),
    ("from_date=2026-12-01&to_date=9999-12-31", "to_date"),
])
def test_slot_search_dates_beyond_the_calendar_are_named(
        client: TestClient, admin: dict[str, str], one_slot: dict[str, int], query: str,
        field: str) -> None:
    response = client.get(f"/api/requests/{one_slot['request_a']}/slots?{query}",
                          headers=admin)

    _assert_names(response, field)


def test_a_validation_answer_never_echoes_what_was_sent(client: TestClient) -> None:
    secret = "my password is hunter2"

    response = _send(client, "POST", "/api/auth/staff/sign-in",
                     {"username": ["zebra1", "zebra2"], "password": secret})

    assert response.status_code == 422
    assert secret not in response.text
    assert "zebra1" not in json.dumps(response.json()["detail"])

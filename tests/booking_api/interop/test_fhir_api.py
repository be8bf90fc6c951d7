"""The FHIR R4 scheduling API: ServiceRequest in, Slot search, Appointment book/hold/cancel
and the scheduling operations, each refusal an OperationOutcome naming the element; the
specification's own Appointment and Slot examples are accepted."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from booking_api.access.models import AccountRole
from booking_api.core.db import transaction
from booking_api.interop.fhir.outcome import FhirError
from booking_api.interop.fhir.parsing import validate_resource
from booking_api.interop.order_codes import SHIPPED_MAP, load_code_map, read_code_map
from booking_api.network.services import mirror_reference_data
from booking_api.requests.models import Request
from domain.exams import exam_catalogue
from domain.network import Network
from tests.booking_api.access_support import (
    add_staff,
    client,
    clock,
    engine,
    migrated_url,
    shared_database,
    staff_headers,
)
from tests.booking_api.booking_world import _diary, add_patients
from tests.booking_api.interop.conftest import FIXTURES, INTEROP_EXAMS

__all__ = ["client", "clock", "engine", "migrated_url", "shared_database"]
FHIR = "application/fhir+json"


@pytest.fixture
def world(engine: Engine, tiny_network: Network) -> dict:
    with transaction(engine) as session:
        mirror_reference_data(session, tiny_network,
                              {c: exam_catalogue()[c] for c in INTEROP_EXAMS})
        load_code_map(session, read_code_map(SHIPPED_MAP))
        slots = _diary(session, "S1-XR1", "S1", 6, 10)
        _, requests = add_patients(session, 2, "XCHES")
    return {"slots": slots, "requests": requests}


@pytest.fixture
def system(engine: Engine, client: TestClient) -> dict[str, str]:
    add_staff(engine, "ice.ocs", AccountRole.CLERK)
    return staff_headers(client, "ice.ocs") | {"Content-Type": FHIR}


def service_request(nhs: str = "9990000018", priority: str = "routine",
                    code: str = "XCHES") -> dict:
    return {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
            "priority": priority,
            "identifier": [{"system": "https://ice.example.nhs.uk/order", "value": "SR1001"}],
            "contained": [{"resourceType": "Patient", "id": "p1",
                           "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number",
                                           "value": nhs}],
                           "name": [{"family": "Smith", "given": ["Jane"]}],
                           "birthDate": "1980-01-15",
                           "address": [{"postalCode": "B15 2TH"}]}],
            "subject": {"reference": "#p1"},
            "code": {"coding": [{"system": "https://www.nicip.nhs.uk", "code": code}]},
            "requester": {"display": "Dr Alan Jones, Hollybrook Medical Practice"},
            "note": [{"text": "Cough for six weeks"}]}


def _issue(response) -> dict:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"][0]


def test_a_service_request_becomes_a_received_request_once(client, system, world) -> None:
    first = client.post("/fhir/ServiceRequest", content=json.dumps(service_request()),
                        headers=system)
    again = client.post("/fhir/ServiceRequest", content=json.dumps(service_request()),
                        headers=system)

    assert first.status_code == 201, first.text
    assert first.headers["content-type"].startswith(FHIR)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    read = client.get(f"/fhir/ServiceRequest/{first.json()['id']}", headers=system).json()
    assert read["status"] == "active" and read["code"]["coding"][0]["code"] == "XCHES"


@pytest.mark.parametrize(("change", "status", "element"), [
    ({"priority": "whenever"}, 400, "ServiceRequest.priority"),
    ({"resourceType": "Task"}, 400, "ServiceRequest.resourceType"),
    ({"subject": {"reference": "Patient/1"}}, 422, "ServiceRequest.subject"),
    ({"identifier": []}, 422, "ServiceRequest.identifier"),
    ({"code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "93306"}]}},
     422, "ServiceRequest.code.coding.system"),
])
def test_a_bad_service_request_is_refused_naming_the_element(client, system, world, change,
                                                             status, element) -> None:
    response = client.post("/fhir/ServiceRequest",
                           content=json.dumps(service_request() | change), headers=system)

    assert response.status_code == status, response.text
    assert _issue(response)["expression"] == [element]


@pytest.mark.parametrize("name", [{"family": "Smith", "given": [" "]},
                                  {"family": " ", "given": ["Jane"]},
                                  {"family": "Smith"}])
def test_a_patient_without_a_usable_name_is_refused_naming_it(client, system, world,
                                                              name) -> None:
    order = service_request()
    order["contained"][0]["name"] = [name]

    response = client.post("/fhir/ServiceRequest", content=json.dumps(order), headers=system)

    assert response.status_code == 422, response.text
    assert _issue(response)["expression"] == ["Patient.name"]


def test_a_bad_nhs_number_is_refused_and_nothing_changes(client, system, world,
                                                         engine) -> None:
    response = client.post("/fhir/ServiceRequest",
                           content=json.dumps(service_request(nhs="9990000017")),
                           headers=system)

    assert response.status_code == 422
    assert _issue(response)["expression"] == ["Patient.identifier"]
    with transaction(engine) as session:
        assert len(session.scalars(select(Request)).all()) == 2  # the world's own


def test_slots_are_searched_by_status_start_schedule_and_service_type(client, system,
                                                                      world) -> None:
    response = client.get("/fhir/Slot", headers=system, params=[
        ("status", "free"), ("start", "ge2026-12-07"), ("start", "lt2026-12-08"),
        ("schedule", "Schedule/S1-XR1"), ("service-type", "XR"), ("_count", "4"),
        ("_include", "Slot:schedule")])

    bundle = response.json()
    assert response.status_code == 200 and bundle["type"] == "searchset"
    slots = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    included = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert len(slots) == 4 and {s["status"] for s in slots} == {"free"}
    assert [s["resourceType"] for s in included] == ["Schedule"]
    assert any(link["relation"] == "next" for link in bundle["link"])


@pytest.mark.parametrize(("params", "element"), [
    ({"status": "open"}, "Slot.status"), ({"start": "ge07/12/2026"}, "Slot.start"),
    ({"service-type": "PET"}, "Slot.serviceType"), ({"_count": "0"}, "_count")])
def test_a_bad_slot_search_names_the_parameter(client, system, world, params,
                                               element) -> None:
    response = client.get("/fhir/Slot", headers=system, params=params)

    assert response.status_code == 400 and _issue(response)["expression"] == [element]


def _appointment(slot_id: int, request_id: int, status: str = "booked") -> dict:
    return {"resourceType": "Appointment", "status": status,
            "slot": [{"reference": f"Slot/{slot_id}"}],
            "basedOn": [{"reference": f"ServiceRequest/{request_id}"}],
            "participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}]}


def test_an_appointment_booked_from_a_free_slot_takes_it_and_a_cancel_frees_it(
        client, system, world) -> None:
    slot, request = world["slots"][0], world["requests"][0]

    booked = client.post("/fhir/Appointment", headers=system,
                         content=json.dumps(_appointment(slot, request)))
    taken = client.get("/fhir/Slot", headers=system,
                       params={"schedule": "S1-XR1", "_count": "1"}).json()
    body = booked.json() | {"status": "cancelled",
                            "cancelationReason": {"text": "referrer cancelled"}}
    cancelled = client.put(f"/fhir/Appointment/{booked.json()['id']}", headers=system,
                           content=json.dumps(body))

    assert booked.status_code == 201, booked.text
    assert booked.json()["status"] == "booked"
    assert taken["entry"][0]["resource"]["status"] == "busy"
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize(("change", "element"), [
    ({"note": [{"text": "Cough\x00"}]}, "ServiceRequest.note.0.text"),
    ({"note": [{"text": "Cough\ud800"}]}, "ServiceRequest.note.0.text"),
    ({"requester": {"display": "Dr\x07 Jones"}}, "ServiceRequest.requester.display"),
    ({"extension": [{"url": "http://example.org/x", "valueDecimal": float("nan")}]},
     "ServiceRequest.extension.0.valueDecimal"),
], ids=["nul", "surrogate", "bell", "nan"])
def test_unreadable_text_or_numbers_in_a_resource_are_named_and_change_nothing(
        client, system, world, engine, change, element) -> None:
    response = client.post("/fhir/ServiceRequest",
                           content=json.dumps(service_request() | change), headers=system)

    assert response.status_code == 400, response.text
    assert _issue(response)["expression"] == [element]
    with transaction(engine) as session:
        assert len(session.scalars(select(Request)).all()) == 2  # the world's own


@pytest.mark.parametrize("kind", ["9" * 20, 2**63, None], ids=["digits", "number", "null"])
def test_a_contained_resource_of_no_known_type_is_named(client, system, world, kind) -> None:
    body = service_request()
    body["contained"][0]["resourceType"] = kind

    response = client.post("/fhir/ServiceRequest", content=json.dumps(body), headers=system)

    assert response.status_code == 400, response.text
    assert _issue(response)["expression"] == ["ServiceRequest.contained.0.resourceType"]


@pytest.mark.parametrize(("path", "element"), [
    ("/fhir/Schedule/S1%00XR1", "room_id"),
    ("/fhir/Slot?schedule=Schedule/S1%00", "schedule"),
    ("/fhir/Appointment?patient=Patient/%00", "patient"),
])
def test_a_control_character_in_a_fhir_parameter_is_named(client, system, world, path,
                                                         element) -> None:
    response = client.get(path, headers=system)

    assert response.status_code == 400, response.text
    assert _issue(response)["expression"] == [element]


def test_a_nul_in_a_cancellation_reason_is_named_and_cancels_nothing(
        client, system, world) -> None:
    booked = client.post("/fhir/Appointment", headers=system, content=json.dumps(
        _appointment(world["slots"][0], world["requests"][0]))).json()
    body = booked | {"status": "cancelled", "cancelationReason": {"text": "no\x00 longer"}}

    cancelled = client.put(f"/fhir/Appointment/{booked['id']}", headers=system,
                           content=json.dumps(body))

    assert cancelled.status_code == 400
    assert _issue(cancelled)["expression"] == ["Appointment.cancelationReason.text"]
    again = client.get(f"/fhir/Appointment/{booked['id']}", headers=system).json()
    assert again["status"] == "booked"


@pytest.mark.parametrize(("name", "value", "element"), [
    ("end", {"valueDate": "9999-12-31"}, "Parameters.parameter[end]"),
    ("start", {"valueDate": "0001-01-01"}, "Parameters.parameter[start]"),
    ("_count", {"valueString": "many"}, "Parameters.parameter[_count]"),
    ("_count", {"valueString": "0"}, "Parameters.parameter[_count]"),
], ids=["end-9999", "start-1", "count-words", "count-zero"])
def test_find_names_a_parameter_out_of_range(client, system, world, name, value,
                                             element) -> None:
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "service-request",
         "valueReference": {"reference": f"ServiceRequest/{world['requests'][0]}"}},
        {"name": name, **value}]}

    response = client.post("/fhir/Appointment/$find", headers=system,
                           content=json.dumps(parameters))

    assert 400 <= response.status_code < 500, response.text
    assert _issue(response)["expression"] == [element]


def test_a_taken_slot_is_a_conflict_naming_the_slot(client, system, world) -> None:
    slot = world["slots"][0]
    client.post("/fhir/Appointment", headers=system,
                content=json.dumps(_appointment(slot, world["requests"][0])))

    second = client.post("/fhir/Appointment", headers=system,
                         content=json.dumps(_appointment(slot, world["requests"][1])))

    assert second.status_code == 409 and _issue(second)["expression"] == ["Appointment.slot"]


def test_hold_then_book_through_the_scheduling_operations(client, system, world) -> None:
    proposed = _appointment(world["slots"][2], world["requests"][0], "proposed")
    parameters = {"resourceType": "Parameters",
                  "parameter": [{"name": "appointment", "resource": proposed}]}

    held = client.post("/fhir/Appointment/$hold", headers=system,
                       content=json.dumps(parameters))
    book = {"resourceType": "Parameters", "parameter": [
        {"name": "appointment", "resource": held.json()}]}
    booked = client.post("/fhir/Appointment/$book", headers=system, content=json.dumps(book))

    assert held.status_code == 200 and held.json()["status"] == "pending", held.text
    assert booked.status_code == 200 and booked.json()["status"] == "booked", booked.text
    assert booked.json()["id"] == held.json()["id"]


def test_find_proposes_appointments_the_rules_allow(client, system, world) -> None:
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "service-request",
         "valueReference": {"reference": f"ServiceRequest/{world['requests'][0]}"}},
        {"name": "start", "valueDate": "2026-12-07"}, {"name": "_count", "valueInteger": 3}]}

    response = client.post("/fhir/Appointment/$find", headers=system,
                           content=json.dumps(parameters))

    assert response.status_code == 200, response.text
    proposals = [e["resource"] for e in response.json()["entry"]]
    assert 1 <= len(proposals) <= 3 and {p["status"] for p in proposals} == {"proposed"}


@pytest.mark.parametrize("name", ["appointment-example.json",
                                  "appointment-example-request.json",
                                  "appointment-example2doctors.json"])
def test_the_specifications_appointment_examples_are_accepted(client, system, world,
                                                              name: str) -> None:
    example = json.loads((FIXTURES / "fhir" / name).read_text())
    validate_resource(example, "Appointment")

    response = client.post("/fhir/Appointment", headers=system, content=json.dumps(example))

    # valid FHIR: refused only for what names nothing of ours (a slot, a request)
    assert response.status_code == 422
    assert _issue(response)["expression"][0] in ("Appointment.slot", "Appointment.basedOn",
                                                 "Appointment.status")


@pytest.mark.parametrize("name", ["slot-example.json", "slot-example-busy.json",
                                  "slot-example-tentative.json",
                                  "slot-example-unavailable.json"])
def test_the_specifications_slot_examples_are_accepted(name: str) -> None:
    example = json.loads((FIXTURES / "fhir" / name).read_text())

    slot = validate_resource(example, "Slot")

    assert slot.status == example["status"] and slot.start.year == 2013


def test_a_slot_without_a_schedule_is_refused_naming_it() -> None:
    example = json.loads((FIXTURES / "fhir" / "slot-example.json").read_text())
    del example["schedule"]

    with pytest.raises(FhirError) as refused:
        validate_resource(example, "Slot")

    assert refused.value.element == "Slot.schedule"



def test_an_hl7_order_over_http_is_answered_with_its_ack(client, system, world) -> None:
    message = (FIXTURES / "hl7" / "orm_o01_new.hl7").read_text()

    response = client.post("/hl7/v2", content=message,
                           headers=system | {"Content-Type": "application/hl7-v2"})
    again = client.post("/hl7/v2", content=message,
                        headers=system | {"Content-Type": "application/hl7-v2"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/hl7-v2")
    assert "\rMSA|AA|ICE000101" in response.text
    assert again.text == response.text


def test_hl7_over_http_needs_a_signed_in_system(client, world) -> None:
    response = client.post("/hl7/v2", content="MSH|^~\\&|X")

    assert response.status_code == 401


def test_a_clerk_lists_and_resolves_a_held_order(client, system, world) -> None:
    held = client.post("/fhir/ServiceRequest", headers=system,
                       content=json.dumps(service_request() | {"code": {"coding": [
                           {"system": "http://snomed.info/sct", "code": "426646004"}]}}))
    staff = {k: v for k, v in system.items() if k != "Content-Type"}

    queue = client.get("/api/staff/held-orders", headers=staff).json()
    path = f"/api/staff/held-orders/{queue[0]['id']}/resolution"
    bad = client.post(path, headers=staff | {"Idempotency-Key": "k1"},
                      json={"reason": "scaphoid series", "exam_code": "NOPE"})
    done = client.post(path, headers=staff | {"Idempotency-Key": "k2"},
                       json={"reason": "scaphoid series", "exam_code": "XKNEE"})

    assert held.status_code == 202 and held.json()["resourceType"] == "OperationOutcome"
    assert len(queue) == 1 and queue[0]["needs_exam"] and not queue[0]["needs_patient"]
    assert bad.status_code == 422 and bad.json()["field"] == "exam_code"
    assert done.status_code == 200 and done.json()["request_id"] > 0
    assert client.get("/api/staff/held-orders", headers=staff).json() == []

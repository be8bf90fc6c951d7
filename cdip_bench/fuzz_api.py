"""Every route of the service as a request to fuzz: the JSON API's operations read from its
OpenAPI document (a plausible request built from each schema, with the world's real ids so
the request reaches the code past "not found"), plus the routes that read their own bodies
(FHIR resources, HL7 messages, Twilio's webhook forms) from templates here. Each operation
lists its targets (path parameters, query parameters, every leaf of its body, the body as a
whole) and makes the request with one or more targets replaced by a hostile value."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cdip_bench.fuzz_inputs import form_body, json_body, plain_text, url_text

Where = tuple[str | int, ...]
FHIR_JSON = "application/fhir+json"
PATIENT_PATHS = ("/api/appointments", "/api/requests/{request_id}/slots", "/api/slots/{slot_id}",
                 "/api/auth/me")
"""Routes a patient may call too: fuzzed as the patient as well as as staff."""


@dataclass(frozen=True)
class Ids:
    """Real rows of the world that requests name (the patient's own, where it matters)."""

    request_id: int
    slot_id: int
    appointment_id: int
    patient_id: int
    held_order_id: int
    message_id: int
    room_id: str
    username: str
    booking_reference: str
    date_of_birth: str


@dataclass(frozen=True)
class Target:
    kind: str
    """`path`, `query` or `body`."""
    where: Where

    def __str__(self) -> str:
        return f"{self.kind}:{'.'.join(str(part) for part in self.where) or '(whole)'}"


@dataclass(frozen=True)
class HttpCall:
    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_values: dict[str, Any]
    query: dict[str, Any]
    query_names: tuple[str, ...]
    body: Any
    body_kind: str
    """`json`, `fhir`, `hl7`, `form` or `none`."""
    callers: tuple[str, ...]
    idempotent: bool = False
    targets: tuple[Target, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    def call(self, headers: Mapping[str, str],
             changes: Mapping[Target, Any] | None = None) -> HttpCall:
        """The request, with each target in `changes` replaced by its value."""
        changes = changes or {}
        path_values = {**self.path_values, **{t.where[0]: v for t, v in changes.items()
                                              if t.kind == "path"}}
        query = {**self.query, **{t.where[0]: v for t, v in changes.items()
                                  if t.kind == "query"}}
        body = self.body
        for target, value in changes.items():
            if target.kind == "body":
                body = _replaced(body, target.where, value, self.body_kind)
        url = self.path
        for name, value in path_values.items():
            url = url.replace(f"{{{name}}}", url_text(value))
        if query:
            url += "?" + "&".join(f"{url_text(name)}={url_text(value)}"
                                  for name, value in query.items())
        all_headers = dict(headers)
        if self.idempotent:
            all_headers["Idempotency-Key"] = uuid.uuid4().hex
        content, media_type = _encoded(body, self.body_kind)
        if media_type:
            all_headers["Content-Type"] = media_type
        return HttpCall(self.method, url, all_headers, content)


def operations_of(openapi: Mapping[str, Any], ids: Ids) -> list[Operation]:
    """One Operation per method and path of the OpenAPI document; routes that read their own
    body get the template of RAW_BODIES."""
    schemas = openapi.get("components", {}).get("schemas", {})
    found: list[Operation] = []
    for path, methods in openapi["paths"].items():
        for method, spec in methods.items():
            found.append(_operation(method.upper(), path, spec, schemas, ids))
    return found


def _operation(method: str, path: str, spec: Mapping[str, Any], schemas: Mapping[str, Any],
               ids: Ids) -> Operation:
    parameters = spec.get("parameters", [])
    path_names = [p["name"] for p in parameters if p["in"] == "path"]
    query_names = [p["name"] for p in parameters if p["in"] == "query"]
    query_names += [n for n in EXTRA_QUERY.get(path, ()) if n not in query_names]
    required = {p["name"] for p in parameters if p["in"] == "query" and p.get("required")}
    json_schema = (spec.get("requestBody", {}).get("content", {})
                   .get("application/json", {}).get("schema"))
    if (method, path) in RAW_BODIES:
        kind, body = RAW_BODIES[(method, path)](ids)
    elif json_schema is not None:
        kind, body = "json", _example(json_schema, schemas, ids, "")
    else:
        kind, body = "none", None
    targets = ([Target("path", (name,)) for name in path_names]
               + [Target("query", (name,)) for name in query_names]
               + ([Target("body", where) for where in _leaves(body, kind)]
                  if kind != "none" else []))
    idempotent = any(p["name"] == "Idempotency-Key" for p in parameters)
    return Operation(method, path, {n: _value_named(n, ids, path) for n in path_names},
                     {n: _value_named(n, ids, path) for n in required},
                     tuple(query_names), body, kind, _callers(method, path), idempotent,
                     tuple(targets))


def _callers(method: str, path: str) -> tuple[str, ...]:
    if path.startswith("/api/auth/") and path.endswith("sign-in"):
        return ("anonymous",)
    if path.startswith("/api/webhooks/"):
        return ("anonymous",)
    if path.endswith("/vetting"):
        return ("vetting",)
    if path.startswith(PATIENT_PATHS):
        return ("staff", "patient")
    return ("staff",)


def _value_named(name: str, ids: Ids, path: str) -> Any:
    if path.startswith("/fhir/") and name == "patient_id":
        return str(ids.patient_id)
    known = {"request_id": ids.request_id, "slot_id": ids.slot_id,
             "appointment_id": ids.appointment_id, "patient_id": ids.patient_id,
             "held_order_id": ids.held_order_id, "message_id": ids.message_id,
             "room_id": ids.room_id, "username": ids.username, "limit": 5,
             "booking_reference": ids.booking_reference, "date_of_birth": ids.date_of_birth}
    return known.get(name, "1")


def _example(schema: Mapping[str, Any], schemas: Mapping[str, Any], ids: Ids,
             name: str) -> Any:
    """A plausible value for `schema` (named `name` in its parent)."""
    if "$ref" in schema:
        return _example(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas, ids, name)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _example(options[0], schemas, ids, name) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        return {key: _example(sub, schemas, ids, key)
                for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [_example(schema.get("items", {}), schemas, ids, name)]
    if kind == "integer":
        return _value_named(name, ids, "") if name.endswith("_id") else 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    return NAMED_TEXT.get(name, _value_named(name, ids, "") if name in (
        "booking_reference", "date_of_birth") else "fuzz text")


NAMED_TEXT = {"username": "fuzz.newcomer", "password": "a fuzzing passphrase to use",
              "display_name": "Fuzz Newcomer", "exam_code": "XCHES", "protocol": "standard",
              "name": "egfr", "rule_id": "contrast_egfr"}


def _leaves(body: Any, kind: str, where: Where = ()) -> Iterator[Where]:
    """The body as a whole, then every value inside it (an HL7 message: every field)."""
    if kind == "hl7":
        for s, segment in enumerate(body.split("\r")):
            for f in range(1, len(segment.split("|"))):
                yield (s, f)
        return
    if kind == "form":
        yield from [(), *((index,) for index in range(len(body)))]
        return
    yield where
    if isinstance(body, dict):
        for key, value in body.items():
            yield from _leaves(value, kind, (*where, key))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            yield from _leaves(value, kind, (*where, index))


def _replaced(body: Any, where: Where, value: Any, kind: str) -> Any:
    """`body` with the value at `where` replaced (unchanged if an earlier change removed it)."""
    if kind == "hl7" and isinstance(body, str) and len(where) == 2:
        segments = body.split("\r")
        fields = segments[int(where[0])].split("|")
        fields[int(where[1])] = plain_text(value)
        segments[int(where[0])] = "|".join(fields)
        return "\r".join(segments)
    if kind == "form" and where:
        if not (isinstance(body, list) and all(isinstance(f, tuple) for f in body)):
            return body
        return [(name, plain_text(value) if index == where[0] else text)
                for index, (name, text) in enumerate(body)]
    if not where:
        return value
    head, rest = where[0], where[1:]
    if isinstance(body, dict) and head in body:
        return {**body, head: _replaced(body[head], rest, value, kind)}
    if isinstance(body, list) and isinstance(head, int) and head < len(body):
        return [_replaced(item, rest, value, kind) if index == head else item
                for index, item in enumerate(body)]
    return body


def _encoded(body: Any, kind: str) -> tuple[bytes | None, str | None]:
    if kind == "none":
        return None, None
    if kind == "hl7":
        return plain_text(body).encode("utf-8", "surrogatepass"), "application/hl7-v2"
    if kind == "form":
        if isinstance(body, list) and all(isinstance(f, tuple) for f in body):
            return form_body(body), "application/x-www-form-urlencoded"
        return plain_text(body).encode("utf-8", "surrogatepass"), \
            "application/x-www-form-urlencoded"
    return json_body(body), FHIR_JSON if kind == "fhir" else "application/json"


# --- routes that read their own bodies --------------------------------------------------------

EXTRA_QUERY: dict[str, tuple[str, ...]] = {
    "/fhir/Slot": ("status", "start", "schedule", "service-type", "_count", "_include"),
    "/fhir/Appointment": ("patient", "status", "based-on"),
    "/fhir/Schedule": ("actor",),
}


def _appointment(ids: Ids, status: str = "booked") -> dict[str, Any]:
    return {"resourceType": "Appointment", "status": status,
            "slot": [{"reference": f"Slot/{ids.slot_id}"}],
            "basedOn": [{"reference": f"ServiceRequest/{ids.request_id}"}],
            "participant": [{"actor": {"reference": f"Patient/{ids.patient_id}"},
                             "status": "accepted"}]}


def _service_request(_ids: Ids) -> tuple[str, Any]:
    return "fhir", {
        "resourceType": "ServiceRequest", "status": "active", "intent": "order",
        "priority": "routine",
        "identifier": [{"system": "https://ice.example.nhs.uk/order", "value": "FZ1001"}],
        "contained": [{"resourceType": "Patient", "id": "p1",
                       "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number",
                                       "value": "9990000018"}],
                       "name": [{"family": "Smith", "given": ["Jane"]}],
                       "birthDate": "1980-01-15", "address": [{"postalCode": "B15 2TH"}]}],
        "subject": {"reference": "#p1"},
        "code": {"coding": [{"system": "https://www.nicip.nhs.uk", "code": "XCHES"}]},
        "requester": {"display": "Dr Alan Jones"}, "note": [{"text": "Cough"}]}


def _parameters(ids: Ids) -> tuple[str, Any]:
    return "fhir", {"resourceType": "Parameters", "parameter": [
        {"name": "appointment", "resource": _appointment(ids, "pending")}]}


def _find(ids: Ids) -> tuple[str, Any]:
    return "fhir", {"resourceType": "Parameters", "parameter": [
        {"name": "service-request",
         "valueReference": {"reference": f"ServiceRequest/{ids.request_id}"}},
        {"name": "start", "valueDate": "2026-12-01"}, {"name": "end", "valueDate": "2027-01-31"},
        {"name": "_count", "valueString": "5"}]}


def _cancel(ids: Ids) -> tuple[str, Any]:
    return "fhir", {**_appointment(ids, "cancelled"), "id": str(ids.appointment_id),
                    "cancelationReason": {"text": "referrer cancelled"}}


HL7_ORDER = "\r".join((
    "MSH|^~\\&|FUZZ|RQ3|CDIP|WMIN|20261201090000||ORM^O01^ORM_O01|FZ000101|P|2.5.1",
    "PID|1||9990000018^^^NHS^NH||SMITH^JANE^^^MRS||19800115|F|||1 HIGH STREET^^BIRMINGHAM"
    "^^B15 2TH^GBR||07700900123",
    "PV1|1|O",
    "ORC|NW|FZ1001^FUZZ|||||||20261201085500|||G8123456^JONES^ALAN^^^DR",
    "OBR|1|FZ1001^FUZZ||XCHES^X-ray chest^NICIP|||||||||Cough for six weeks|||G8123456^JONES"
    "^ALAN^^^DR|||||||||||^^^^^R"))


RAW_BODIES = {
    ("POST", "/fhir/ServiceRequest"): _service_request,
    ("POST", "/fhir/Appointment"): lambda ids: ("fhir", _appointment(ids)),
    ("PUT", "/fhir/Appointment/{appointment_id}"): _cancel,
    ("POST", "/fhir/Appointment/$find"): _find,
    ("POST", "/fhir/Appointment/$hold"): _parameters,
    ("POST", "/fhir/Appointment/$book"): _parameters,
    ("POST", "/hl7/v2"): lambda _ids: ("hl7", HL7_ORDER),
    ("POST", "/api/webhooks/twilio/status"): lambda _ids: ("form", [
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"), ("MessageStatus", "delivered")]),
    ("POST", "/api/webhooks/twilio/inbound"): lambda _ids: ("form", [
        ("From", "+447700900123"), ("Body", "CONFIRM"),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef")]),
}

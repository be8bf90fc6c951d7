"""Reading FHIR bodies: the JSON must be a resource of the expected type, and fhir.resources
must accept it (its R4B models; R4's Appointment, Slot, ServiceRequest, Patient are the
same there), and no text in it may hold what the service refuses everywhere (NUL, control
characters, lone surrogates; numbers must be finite: `core.inputs`); a refusal names the
element."""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from booking_api.core.inputs import problem_in_json
from booking_api.interop.fhir.outcome import FhirError, from_validation


def parse_resource(body: bytes, expected: str) -> Any:
    """The resource in a request body, validated; FhirError (400) naming what is wrong."""
    try:
        raw = json.loads(body or b"null")
    except ValueError as error:
        raise FhirError(400, None, f"the body is not JSON: {error}", "structure") from None
    return validate_resource(raw, expected)


def validate_resource(raw: Any, expected: str) -> Any:
    if not isinstance(raw, dict):
        raise FhirError(400, None, f"the body must be a FHIR {expected} resource (a JSON "
                        "object)", "structure")
    kind = raw.get("resourceType")
    if kind != expected:
        raise FhirError(400, f"{expected}.resourceType",
                        f"resourceType must be {expected}, not {kind!r}", "structure")
    unreadable = problem_in_json(raw)
    if unreadable is not None:
        element = f"{expected}.{unreadable[0]}"
        raise FhirError(400, element, f"{element} {unreadable[1]}", "structure")
    try:
        return get_fhir_model_class(expected).model_validate(raw)
    except ValidationError as error:
        raise from_validation(expected, error) from None


def reference_id(reference: str | None, kind: str, element: str) -> str:
    """The id in 'Kind/id' (a relative literal reference); FhirError naming the element."""
    prefix = f"{kind}/"
    if not reference or not reference.startswith(prefix) or len(reference) == len(prefix):
        raise FhirError(422, element, f"{element} must reference a {kind} as '{kind}/<id>'")
    return reference[len(prefix):]


def int_id(value: str, element: str) -> int:
    if not value.isdigit() or int(value) > 2**31 - 1:
        raise FhirError(404, element, f"no resource with id '{value}'", "not-found")
    return int(value)

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
from starlette.requests import Request

from booking_api.core.inputs import problem_in_json, text_problem
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
    except (KeyError, TypeError):  # fhir.resources meeting a resourceType it has no model for
        element = _element_of_type(raw, expected)
        raise FhirError(400, element, f"{element} is no FHIR resource type",
                        "structure") from None


def readable_parameters(request: Request) -> None:
    """A route dependency: FhirError (400) naming the first path or search parameter whose
    name or value holds a NUL, another control character or a lone surrogate."""
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        problem = (text_problem(str(name), multiline=False)
                   or text_problem(str(value), multiline=False))
        if problem is not None:
            shown = str(name).encode("ascii", "backslashreplace").decode("ascii")[:60]
            raise FhirError(400, shown, f"the parameter {shown} {problem}")


def _element_of_type(raw: Any, expected: str, path: str = "") -> str:
    """Where the first resourceType fhir.resources has no model for sits in `raw`."""
    if isinstance(raw, dict):
        kind = raw.get("resourceType")
        if path and "resourceType" in raw and not (isinstance(kind, str) and _known_type(kind)):
            return f"{expected}.{path}.resourceType"
        for key, value in raw.items():
            found = _element_of_type(value, expected, f"{path}.{key}" if path else str(key))
            if found != expected:
                return found
    if isinstance(raw, list):
        for index, value in enumerate(raw):
            found = _element_of_type(value, expected, f"{path}.{index}")
            if found != expected:
                return found
    return expected


def _known_type(kind: str) -> bool:
    try:
        get_fhir_model_class(kind)
    except (KeyError, ValueError, AttributeError, ImportError):
        return False
    return True


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

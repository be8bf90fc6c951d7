"""FHIR errors as OperationOutcome: every refusal names the element at fault (`expression`,
FHIRPath) and says what to do, with the HTTP status FHIR's RESTful API gives it."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import ValidationError

from booking_api.core import errors

FHIR_JSON = "application/fhir+json"
ISSUE_OF_STATUS = {400: "invalid", 404: "not-found", 409: "conflict", 412: "conflict",
                   422: "processing", 403: "forbidden"}


class FhirError(Exception):
    def __init__(self, status: int, element: str | None, text: str,
                 code: str | None = None) -> None:
        super().__init__(text)
        self.status, self.element, self.text = status, element, text
        self.code = code or ISSUE_OF_STATUS.get(status, "processing")


def operation_outcome(issues: list[tuple[str, str | None, str]]) -> dict[str, Any]:
    """(code, element, text) issues as an OperationOutcome."""
    return {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": code, "diagnostics": text,
         **({"expression": [element]} if element else {})} for code, element, text in issues]}


def fhir_error_response(error: FhirError) -> JSONResponse:
    return JSONResponse(operation_outcome([(error.code, error.element, error.text)]),
                        status_code=error.status, media_type=FHIR_JSON)


def from_validation(resource_type: str, error: ValidationError) -> FhirError:
    """The first problem fhir.resources found, located as Resource.element.path."""
    first = error.errors()[0]
    path = ".".join(str(part) for part in first["loc"] if not str(part).startswith("__"))
    element = f"{resource_type}.{path}" if path else resource_type
    return FhirError(400, element, f"{element}: {first['msg']}", "structure")


BOOKING_ERROR_ELEMENT = {"slot_id": "Appointment.slot", "request_id": "Appointment.basedOn",
                         "appointment_id": "Appointment.id",
                         "reason": "Appointment.cancelationReason"}


def from_booking_error(error: errors.BookingError) -> FhirError:
    """The service's refusal (`core.errors`) as FHIR: 404, 409 or 422 naming the element."""
    status = 404 if isinstance(error, errors.NotFound) else \
        422 if isinstance(error, errors.InvalidInput | errors.SlotNotEligible) else \
        403 if isinstance(error, errors.NotPermitted | errors.OverrideNotAllowed) else 409
    return FhirError(status, BOOKING_ERROR_ELEMENT.get(error.field or "", error.field),
                     error.message)

"""Our exceptions to HTTP answers, in one table. Every answer is JSON with `detail` (what
happened, in words a patient or clerk can act on), `code` (stable, for programs) and, where one
input is at fault, `field`. A conflict the database caught late (a unique or exclusion
violation, or a deadlock, at commit) is the same 409 as one caught under the lock.

A request that fails validation is a 422 listing each problem (`loc`, `msg`, `type`) with the
first one's `field`; it never echoes what was sent (a password, a huge value, or text that
cannot even be encoded, such as a lone surrogate or NaN)."""

from __future__ import annotations

import logging
from dataclasses import asdict

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from booking_api.core import errors
from booking_api.core.db import CONFLICT_SQLSTATES

logger = logging.getLogger(__name__)
UNAVAILABLE_RETRY_AFTER_S = 2
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "57", "53")
"""Connection exceptions, operator intervention (the backend was terminated, the server is
shutting down or starting), insufficient resources (too many connections)."""

STATUS_OF: dict[type[errors.BookingError], tuple[int, str]] = {
    errors.NotFound: (404, "not_found"),
    errors.SlotTaken: (409, "slot_taken"),
    errors.PatientBusy: (409, "patient_busy"),
    errors.SlotUnavailable: (409, "slot_unavailable"),
    errors.HoldExpired: (409, "hold_expired"),
    errors.RequestNotBookable: (409, "request_not_bookable"),
    errors.ChangeRefused: (409, "change_refused"),
    errors.SlotNotEligible: (422, "slot_not_eligible"),
    errors.InvalidInput: (422, "invalid_input"),
    errors.OverrideNotAllowed: (403, "override_not_allowed"),
    errors.NotPermitted: (403, "not_permitted"),
}

MAX_PROBLEMS = 20
"""At most this many validation problems are listed (a body of 300k bad keys gets 20)."""
_LOCATION_KINDS = {"body", "query", "path", "header", "cookie"}
_MAX_NAME = 100

ERROR_RESPONSES = {
    404: {"description": "no such request, slot or appointment (or not yours)"},
    409: {"description": "that time has just been taken, or the state does not allow this"},
    422: {"description": "bad input (the field is named) or the rules refuse the slot"},
}


def booking_error_response(error: errors.BookingError) -> JSONResponse:
    status, code = _status(error)
    body: dict[str, object] = {"detail": error.message, "code": code}
    if error.field:
        body["field"] = error.field
    if isinstance(error, errors.SlotNotEligible):
        body["reasons"] = list(error.reasons)
    if isinstance(error, errors.PatientBusy):
        body["clashes"] = [{**asdict(clash), "start_at": clash.start_at.isoformat(),
                            "end_at": clash.end_at.isoformat()} for clash in error.clashes]
    return JSONResponse(body, status_code=status)


def validation_error_response(error: RequestValidationError) -> JSONResponse:
    """422 naming each field at fault and what is wrong with it, never the value sent."""
    problems = [{"loc": [_printable(part) for part in problem.get("loc", ())],
                 "msg": _printable(str(problem.get("msg", "invalid"))),
                 "type": _printable(str(problem.get("type", "invalid")))}
                for problem in error.errors()[:MAX_PROBLEMS]]
    body: dict[str, object] = {"detail": problems, "code": "invalid_input"}
    if problems:
        body["field"] = field_of(problems[0]["loc"])
    return JSONResponse(body, status_code=422)


def field_of(location: list[str | int]) -> str:
    """`["body", "overrides", 0, "reason"]` → `overrides.0.reason`; `["body"]` (a key that
    cannot be read, or the body as a whole) → `body`."""
    parts = location[1:] if location and location[0] in _LOCATION_KINDS else location
    return ".".join(str(part) for part in parts) or (str(location[0]) if location else "body")


def install_error_handlers(app: FastAPI) -> None:
    """Register the booking exception handlers on an app."""

    async def on_invalid_request(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return validation_error_response(error)

    async def on_booking_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, errors.BookingError)
        return booking_error_response(error)

    async def on_database_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DBAPIError)
        if getattr(error.orig, "sqlstate", None) in CONFLICT_SQLSTATES:
            return booking_error_response(errors.SlotTaken())
        if database_unavailable(error):
            return unavailable_response(error)
        raise error

    async def on_no_connection(_request: Request, error: Exception) -> JSONResponse:
        return unavailable_response(error)

    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(errors.BookingError, on_booking_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(PoolTimeout, on_no_connection)


def database_unavailable(error: DBAPIError) -> bool:
    """The database could not be used (its connection was lost or killed, the server is
    shutting down or refuses connections, SQLite stayed locked): nothing was changed, and
    the same request may succeed in a moment. Not a conflict, not a bug in the request."""
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(UNAVAILABLE_SQLSTATE_CLASSES)


def unavailable_response(error: Exception) -> JSONResponse:
    """503 with Retry-After; the cause is logged by type only (messages can hold data)."""
    logger.warning("database unavailable; answered 503", extra={
        "event": "database_unavailable", "error": type(error).__name__,
        "sqlstate": getattr(getattr(error, "orig", None), "sqlstate", None)})
    return JSONResponse(
        {"detail": "The service cannot reach its database just now; nothing was changed. "
                   f"Try again in {UNAVAILABLE_RETRY_AFTER_S} seconds.",
         "code": "database_unavailable"},
        status_code=503, headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_S)})


def _status(error: errors.BookingError) -> tuple[int, str]:
    for kind in type(error).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400, "refused"


def _printable(part: object) -> str | int:
    """A location part or message safe to encode and short: a key sent by the caller may be
    a lone surrogate or a megabyte long."""
    if isinstance(part, int) and not isinstance(part, bool):
        return part
    text = str(part).encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= _MAX_NAME else text[:_MAX_NAME] + "…"

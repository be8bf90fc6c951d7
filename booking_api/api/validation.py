"""Validation errors (422) that name the field and what is wrong with it, but never echo a
large input back: pydantic puts the offending value in each error's `input`, and a caller who
sends a 20 MiB string must not get 20 MiB back (nor make the service encode it)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

MAX_ECHO_CHARS = 100
"""The longest input echoed whole; a longer one is cut to this many characters, marked."""


def bounded_input(value: Any) -> Any:
    """`value` if short, else a truncated string saying how long the original was."""
    if isinstance(value, str | bytes):
        text = value if isinstance(value, str) else value.decode("utf-8", "replace")
        if len(text) <= MAX_ECHO_CHARS:
            return value if isinstance(value, str) else text
        return f"{text[:MAX_ECHO_CHARS]}… ({len(text):,} characters in all)"
    if isinstance(value, int | float | bool) or value is None:
        return value
    try:
        encoded = json.dumps(jsonable_encoder(value), ensure_ascii=False)
    except (TypeError, ValueError):
        encoded = repr(value)
    if len(encoded) <= MAX_ECHO_CHARS:
        return value
    size = f"{len(value):,} items, " if hasattr(value, "__len__") else ""
    return f"{encoded[:MAX_ECHO_CHARS]}… ({size}{len(encoded):,} characters in all)"


def install_validation_errors(app: FastAPI) -> None:
    """Answer request validation errors as FastAPI does, with every `input` bounded."""

    async def on_validation_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = []
        for problem in error.errors():
            problem = dict(problem)
            if "input" in problem:
                problem["input"] = bounded_input(problem["input"])
            problem.pop("url", None)
            errors.append(problem)
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    app.add_exception_handler(RequestValidationError, on_validation_error)

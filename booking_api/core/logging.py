"""Structured logs: one JSON object per line on stderr, tagged with the request id.

Logs must never carry personal data. Only the message and a short list of known-safe fields
are written; an exception is logged as its type and the places in its stack, never its
message or source lines (a database error's message can quote the row it choked on).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

SAFE_FIELDS = ("event", "method", "route", "status", "duration_ms", "database", "environment",
               "host", "port", "revision")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id is not None:
            payload["request_id"] = request_id
        for field in SAFE_FIELDS:
            if field in record.__dict__:
                payload[field] = record.__dict__[field]
        if record.exc_info and record.exc_info[0] is not None:
            payload["error_type"] = record.exc_info[0].__qualname__
            payload["stack"] = [f"{frame.filename}:{frame.lineno} in {frame.name}"
                                for frame in traceback.extract_tb(record.exc_info[2])]
        return json.dumps(payload, default=str)


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id when it is emitted (a formatter running
    later, e.g. in a queue, would no longer see the context)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


def configure_logging(level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's, SQLAlchemy's) through one JSON handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Uvicorn's access log prints raw paths and query strings, which can hold booking
    # references; `RequestIdMiddleware` logs the route template instead.
    logging.getLogger("uvicorn.access").disabled = True

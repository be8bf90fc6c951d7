"""GET /health: is the service up and can it reach its database. It tells an outsider
nothing else (no version, no environment): those help an attacker pick an exploit."""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from booking_api.api.deps import ReadSessionDep

router = APIRouter(tags=["health"])
logger = logging.getLogger(__name__)


class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str


@router.get("/health", response_model=HealthPublic,
            responses={503: {"model": HealthPublic, "description": "database unreachable"}})
def health(session: ReadSessionDep, response: Response) -> HealthPublic:
    """200 when a `SELECT 1` reaches the database, 503 when it does not."""
    database = session.get_bind().dialect.name
    try:
        session.execute(text("SELECT 1"))
        status: Literal["ok", "unavailable"] = "ok"
    except SQLAlchemyError:
        logger.exception("health check could not reach the database",
                         extra={"database": database})
        response.status_code = 503
        status = "unavailable"
    return HealthPublic(status=status, database=database)


@cache
def service_version() -> str:
    """The installed package's version (read once: it cannot change while serving)."""
    try:
        return version("cdip-scheduling")
    except PackageNotFoundError:
        return "unknown"

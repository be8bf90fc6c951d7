"""Disruption routes: managers (and administrators) report and revoke disruptions; clerks and
above list them. Every POST needs an Idempotency-Key. Bad input answers 4xx naming the field
and keeps nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from booking_api.access.deps import ClerkOrAbove, IdempotentRoute, ManagerOrAdmin
from booking_api.api.deps import MAX_ID, ReadSessionDep, SessionDep, SettingsDep, now_of
from booking_api.api.errors import ERROR_RESPONSES, booking_error_response
from booking_api.core.errors import BookingError
from booking_api.diary import disruptions
from booking_api.diary.models import Disruption, DisruptionCreate, DisruptionPublic
from domain.session_templates import session_templates

router = APIRouter(prefix="/api/disruptions", tags=["disruptions"],
                   route_class=IdempotentRoute, responses=ERROR_RESPONSES)
DisruptionId = Annotated[int, Path(ge=1, le=MAX_ID)]


class Revocation(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


@router.get("", response_model=list[DisruptionPublic])
def list_disruptions(_staff: ClerkOrAbove, session: ReadSessionDep,
                     active: Annotated[bool, Query()] = False,
                     ending_from: Annotated[date | None, Query()] = None,
                     ) -> list[DisruptionPublic]:
    """Disruptions by first day; `active` leaves out revoked ones, `ending_from` past ones."""
    return [DisruptionPublic.model_validate(row, from_attributes=True)
            for row in disruptions.list_disruptions(session, active_only=active,
                                                    ending_from=ending_from)]


@router.post("", response_model=DisruptionPublic, status_code=201)
def add(body: DisruptionCreate, staff: ManagerOrAdmin, session: SessionDep,
        settings: SettingsDep, request: Request) -> DisruptionPublic | JSONResponse:
    """Report a room down, a site closed, staff short, a list cancelled or an extra list."""
    return _change(session, lambda: disruptions.add_disruption(
        session, staff.actor, body, templates=session_templates(), now=now_of(request),
        zone=settings.zone))


@router.post("/{disruption_id}/revoke", response_model=DisruptionPublic)
def revoke(disruption_id: DisruptionId, body: Revocation, staff: ManagerOrAdmin,
           session: SessionDep, request: Request) -> DisruptionPublic | JSONResponse:
    """Withdraw a disruption; it is kept, marked revoked, with who and why."""
    return _change(session, lambda: disruptions.revoke_disruption(
        session, staff.actor, disruption_id, body.reason, now=now_of(request)))


def _change(session: Session, operation: Callable[[], Disruption]
            ) -> DisruptionPublic | JSONResponse:
    try:
        record = operation()
        public = DisruptionPublic.model_validate(record, from_attributes=True)
        session.commit()
    except BookingError as error:
        session.rollback()
        return booking_error_response(error)
    except BaseException:
        session.rollback()
        raise
    return public

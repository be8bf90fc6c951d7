"""Staff routes over the clerk's queue of held orders: list the open ones (with why each is
held and the candidate patients), and resolve one (choose the patient and the exam). The
decision is idempotent per Idempotency-Key like every staff POST."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from booking_api.access.deps import ClerkOrAbove, IdempotentRoute
from booking_api.api.deps import ReadSessionDep, SessionDep, now_of
from booking_api.api.errors import booking_error_response
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.errors import BookingError
from booking_api.core.inputs import PlainText, SafeText, StrictId
from booking_api.idempotency.route import keep_with_commit
from booking_api.interop.held_orders import Resolution, open_held_orders, resolve_held_order

router = APIRouter(prefix="/api/staff/held-orders", tags=["interop"],
                   route_class=IdempotentRoute)
ERRORS = {401: {"description": "not signed in as staff"},
          404: {"description": "no such held order or patient"},
          409: {"description": "already resolved, or the decision would attach the order to "
                               "the wrong person"},
          422: {"description": "bad input; the field is named"}}


class HeldOrderPublic(BaseModel):
    id: int
    needs_patient: bool
    needs_exam: bool
    reason: str
    candidates: list[int]
    order: dict[str, Any]
    created_at: datetime


class ResolutionIn(BaseModel):
    reason: SafeText = Field(min_length=1, max_length=2000, pattern=r"\S")
    patient_id: StrictId | None = None
    new_patient: bool = False
    exam_code: PlainText | None = Field(default=None, max_length=40)
    remember_mapping: bool = False


class ResolvedPublic(BaseModel):
    held_order_id: int
    request_id: int


@router.get("", response_model=list[HeldOrderPublic], responses=ERRORS)
def held_orders(session: ReadSessionDep, _staff: ClerkOrAbove) -> list[HeldOrderPublic]:
    """The open held orders, oldest first (at most 100)."""
    return [HeldOrderPublic(id=h.id or 0, needs_patient=h.needs_patient,
                            needs_exam=h.needs_exam, reason=h.reason,
                            candidates=list(h.candidates), order=h.order_data,
                            created_at=h.created_at) for h in open_held_orders(session)]


@router.post("/{held_order_id}/resolution", response_model=ResolvedPublic, responses=ERRORS)
def resolve(held_order_id: int, body: ResolutionIn, staff: ClerkOrAbove, session: SessionDep,
            request: Request) -> JSONResponse:
    """Turn a held order into a received request: the patient (existing or new) and exam."""
    actor = Actor(f"staff:{staff.username}", Channel.CLERK, role=str(staff.role))
    try:
        request_id = resolve_held_order(session, held_order_id,
                                        Resolution(**body.model_dump()), actor,
                                        now_of(request))
        response = JSONResponse(ResolvedPublic(held_order_id=held_order_id,
                                               request_id=request_id).model_dump())
        keep_with_commit(response)
        session.commit()
    except BookingError as error:
        session.rollback()
        return booking_error_response(error)
    except BaseException:
        session.rollback()
        raise
    return response

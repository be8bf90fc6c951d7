"""Slot routes of the diary: read a slot with its FHIR status, block and unblock it (clerks
and above), withdraw it (administrators). Every POST needs an Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from booking_api.access.deps import AdminOnly, ClerkOrAbove, IdempotentRoute, SignedIn
from booking_api.api.deps import MAX_ID, ReadSessionDep, SessionDep, now_of
from booking_api.api.errors import ERROR_RESPONSES, booking_error_response
from booking_api.core.errors import BookingError, NotFound
from booking_api.core.inputs import SafeText
from booking_api.diary import blocking
from booking_api.slots.models import Slot, SlotPublic

router = APIRouter(prefix="/api/slots", tags=["slots"], route_class=IdempotentRoute,
                   responses=ERROR_RESPONSES)
SlotId = Annotated[int, Path(ge=1, le=MAX_ID)]


class Reason(BaseModel):
    reason: SafeText = Field(min_length=1, max_length=2000)


@router.get("/{slot_id}", response_model=SlotPublic)
def read_slot(slot_id: SlotId, _who: SignedIn, session: ReadSessionDep
              ) -> SlotPublic | JSONResponse:
    """One slot, with its FHIR status."""
    slot = session.get(Slot, slot_id)
    if slot is None:
        return booking_error_response(NotFound("slot", slot_id, "slot_id"))
    return SlotPublic.of(slot)


@router.post("/{slot_id}/block", response_model=SlotPublic)
def block(slot_id: SlotId, body: Reason, staff: ClerkOrAbove, session: SessionDep,
          request: Request) -> SlotPublic | JSONResponse:
    """Take a free slot out of use (busy-unavailable)."""
    return _change(session, lambda: blocking.block_slot(
        session, staff.actor, slot_id, body.reason, now=now_of(request)))


@router.post("/{slot_id}/unblock", response_model=SlotPublic)
def unblock(slot_id: SlotId, body: Reason, staff: ClerkOrAbove, session: SessionDep,
            request: Request) -> SlotPublic | JSONResponse:
    """Put a blocked slot back into use."""
    return _change(session, lambda: blocking.unblock_slot(
        session, staff.actor, slot_id, body.reason, now=now_of(request)))


@router.post("/{slot_id}/withdraw", response_model=SlotPublic)
def withdraw(slot_id: SlotId, body: Reason, admin: AdminOnly, session: SessionDep,
             request: Request) -> SlotPublic | JSONResponse:
    """Mark a slot entered-in-error (administrators only)."""
    return _change(session, lambda: blocking.withdraw_slot(
        session, admin.actor, slot_id, body.reason, now=now_of(request)))


def _change(session: Session, operation: Callable[[], Slot]) -> SlotPublic | JSONResponse:
    try:
        slot = operation()
        session.commit()
    except BookingError as error:
        session.rollback()
        return booking_error_response(error)
    except BaseException:
        session.rollback()  # release SQLite's write lock before anyone else needs it
        raise
    return SlotPublic.of(slot)

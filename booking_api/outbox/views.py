"""Staff routes over the outbox: dead letters (list, send again), the letter list (list, mark
posted), a patient's messages. Clerks, managers and administrators; sending again and marking
posted are idempotent POSTs (Idempotency-Key) and audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from booking_api.access.deps import ClerkOrAbove, IdempotentRoute, reader_of
from booking_api.api.deps import MAX_ID, ReadSessionDep, SessionDep, now_of
from booking_api.api.errors import ERROR_RESPONSES, booking_error_response
from booking_api.core.errors import BookingError
from booking_api.idempotency.route import keep_with_commit
from booking_api.outbox import services
from booking_api.outbox.models import MessageChannel, MessageStatus

router = APIRouter(prefix="/api/staff/messages", tags=["messages"],
                   route_class=IdempotentRoute, responses=ERROR_RESPONSES)
MessageId = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=services.LIST_LIMIT)]


class MessagePublic(BaseModel):
    id: int
    appointment_id: int
    patient_id: int
    event: str
    event_key: str
    channel: MessageChannel
    state: MessageStatus
    attempts: int
    due_at: datetime
    run_at: datetime
    sent_at: datetime | None
    provider_id: str | None
    delivery_status: str | None
    last_error: str | None

    @classmethod
    def of(cls, summary: services.MessageSummary) -> MessagePublic:
        return cls(**summary.__dict__)


@router.get("/dead", response_model=list[MessagePublic])
def dead_letters(staff: ClerkOrAbove, session: ReadSessionDep,
                 limit: Limit = services.LIST_LIMIT) -> list[MessagePublic]:
    """Messages that failed for good (after every retry, or refused by the provider)."""
    return [MessagePublic.of(m) for m in services.dead_letters(session, limit)]


@router.get("/letters", response_model=list[MessagePublic])
def letters(staff: ClerkOrAbove, session: ReadSessionDep,
            limit: Limit = services.LIST_LIMIT) -> list[MessagePublic]:
    """Messages to post: for patients who take neither texts nor email."""
    return [MessagePublic.of(m) for m in services.letters_to_post(session, limit)]


@router.get("", response_model=list[MessagePublic])
def of_patient(staff: ClerkOrAbove, session: ReadSessionDep, request: Request,
               patient_id: Annotated[int, Query(ge=1, le=MAX_ID)],
               limit: Limit = services.LIST_LIMIT) -> list[MessagePublic]:
    """One patient's messages, whatever their state (the read is logged)."""
    return [MessagePublic.of(m) for m in services.messages_of_patient(
        session, patient_id, limit, reader_of(staff, request))]


@router.post("/{message_id}/resend", response_model=MessagePublic)
def resend(message_id: MessageId, staff: ClerkOrAbove, session: SessionDep,
           request: Request) -> MessagePublic | JSONResponse:
    """Send a dead letter again (checked again when sent: nothing goes for an appointment
    cancelled or moved meanwhile)."""
    return _commit(session, lambda: services.resend(session, staff.actor, message_id,
                                                    now_of(request)))


@router.post("/{message_id}/posted", response_model=MessagePublic)
def posted(message_id: MessageId, staff: ClerkOrAbove, session: SessionDep,
           request: Request) -> MessagePublic | JSONResponse:
    """Record that a letter has been posted."""
    return _commit(session, lambda: services.mark_posted(session, staff.actor, message_id,
                                                         now_of(request)))


def _commit(session: Session, change: Callable[[], services.MessageSummary]
            ) -> MessagePublic | JSONResponse:
    try:
        answer = MessagePublic.of(change())
        response = JSONResponse(answer.model_dump(mode="json"))
        keep_with_commit(response)
        session.commit()
    except BookingError as error:
        session.rollback()
        return booking_error_response(error)
    except BaseException:
        session.rollback()
        raise
    return response

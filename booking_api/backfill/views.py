"""Backfill over HTTP: for staff (clerks and above), the freed slots (the clerks' list
among them), each one's offer trail, and stopping or redirecting its offers; for patients,
an offer by its signed link: GET shows it, only POST accepts (a link scanner never books)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from booking_api.access.deps import ClerkOrAbove
from booking_api.api.deps import MAX_ID, now_of
from booking_api.api.errors import ERROR_RESPONSES
from booking_api.backfill import flows, read_models
from booking_api.backfill.links import offer_of_token
from booking_api.backfill.models import FreedState
from booking_api.core.app_state import database_of, settings_of
from booking_api.core.inputs import PlainText, SafeText, StrictId

router = APIRouter(prefix="/api/staff/backfill", tags=["backfill"], responses=ERROR_RESPONSES)
offers_router = APIRouter(prefix="/api/offers", tags=["backfill"], responses=ERROR_RESPONSES)
FreedId = Annotated[int, Path(ge=1, le=MAX_ID)]
Token = Annotated[PlainText, Path(min_length=8, max_length=400)]


class StopBody(BaseModel):
    reason: SafeText = Field(min_length=1, max_length=500)


class RedirectBody(BaseModel):
    request_id: StrictId
    reason: SafeText = Field(min_length=1, max_length=500)


@router.get("/freed")
def freed_slots(staff: ClerkOrAbove, request: Request,
                state: Annotated[FreedState | None, Query()] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """Freed slots, newest first; `state=clerk_list` is the clerks' list."""
    return [asdict(f) for f in read_models.freed_slots(database_of(request.app), state, limit)]


@router.get("/freed/{freed_id}/trail")
def trail(freed_id: FreedId, staff: ClerkOrAbove, request: Request) -> dict[str, Any]:
    """Every offer of the freed slot: who, when, in what place and why, and the answer."""
    return asdict(read_models.trail(database_of(request.app), freed_id))


@router.post("/freed/{freed_id}/stop")
def stop(freed_id: FreedId, body: StopBody, staff: ClerkOrAbove,
         request: Request) -> dict[str, Any]:
    """Stop the offers (those live are told the slot has gone)."""
    flows.stop_offers(database_of(request.app), staff.actor, freed_id, body.reason,
                      now=now_of(request))
    return asdict(read_models.trail(database_of(request.app), freed_id))


@router.post("/freed/{freed_id}/redirect")
def redirect(freed_id: FreedId, body: RedirectBody, staff: ClerkOrAbove,
             request: Request) -> dict[str, Any]:
    """Offer the slot to one chosen request instead (its rules checked like anyone's)."""
    flows.redirect_offers(database_of(request.app), staff.actor, freed_id, body.request_id,
                          body.reason, now=now_of(request),
                          policy=request.app.state.offer_policy)
    return asdict(read_models.trail(database_of(request.app), freed_id))


@offers_router.get("/{token}")
async def show_offer(token: Token, request: Request) -> dict[str, Any]:
    """The offer the link names (changes nothing)."""
    view = await run_in_threadpool(read_models.offer_view, database_of(request.app),
                                   settings_of(request.app).secret_key, token, now_of(request))
    return asdict(view)


@offers_router.post("/{token}/accept")
async def accept(token: Token, request: Request) -> dict[str, Any]:
    """Take the offer: booked if it is still open and first; otherwise why not."""
    offer_id = offer_of_token(settings_of(request.app).secret_key, token)
    answer = await run_in_threadpool(lambda: flows.accept_offer(
        database_of(request.app), offer_id, channel="portal", now=now_of(request)))
    return {"outcome": answer.outcome.value, "message": answer.message,
            "appointment_id": answer.appointment_id}

"""HL7 v2 over HTTP: POST a message (ER7, `application/hl7-v2` or text), get its ACK back in
the body, 200 whatever the ACK code (the ACK is the answer; HTTP errors are for HTTP
problems). For systems that cannot speak MLLP; the same handler as the MLLP listener.
Senders are staff accounts of the interface (clerk role or above)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from booking_api.access.deps import ClerkOrAbove
from booking_api.core.app_state import app_now, database_of
from booking_api.interop.hl7.acks import new_control_id
from booking_api.interop.hl7_inbound import handle_hl7

HL7_MEDIA_TYPE = "application/hl7-v2"
MAX_BODY_BYTES = 1_000_000
router = APIRouter(prefix="/hl7", tags=["hl7"])


@router.post("/v2", response_class=Response, responses={
    200: {"content": {HL7_MEDIA_TYPE: {}}, "description": "the ACK (AA, AE or AR)"}})
async def receive_hl7(request: Request, _staff: ClerkOrAbove) -> Response:
    """Act on one ORM^O01 or OMI^O23 (once, by MSH-10) and answer with its ACK."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return Response("message too long", status_code=413)
    text = body.decode("utf-8", errors="replace")
    ack = await run_in_threadpool(handle_hl7, database_of(request.app), text,
                                  app_now(request.app), new_control_id)
    return Response(ack, media_type=HL7_MEDIA_TYPE)

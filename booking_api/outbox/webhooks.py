"""Twilio's webhooks: message status callbacks and inbound texts. Each is accepted only with
a valid X-Twilio-Signature over the public URL Twilio called (`CDIP_PUBLIC_BASE_URL` plus
the path and query) and its form parameters: 403 otherwise. A malformed one is answered 400
(or 415 for a body that is not a form) naming what is wrong, and changes nothing. Inbound
texts are answered in TwiML (`<Response><Message>`), so the answer needs no send of its own."""

from __future__ import annotations

from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from booking_api.api.deps import now_of
from booking_api.core.app_state import database_of, settings_of, sms_reply_handlers_of
from booking_api.outbox.providers import INBOUND_PATH, STATUS_CALLBACK_PATH, service_details
from booking_api.outbox.replies import answer_reply, record_delivery_report
from notifications.errors import InvalidFieldError, WebhookSignatureError
from notifications.webhooks import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    check_signature,
    delivery_report,
    inbound_sms,
)

router = APIRouter(tags=["webhooks"], include_in_schema=True)
FORM = "application/x-www-form-urlencoded"


@router.post(STATUS_CALLBACK_PATH, status_code=200)
async def status_callback(request: Request) -> Response:
    """A message's delivery status from Twilio (kept: the furthest status per SID)."""
    params = await _signed_form(request)
    if isinstance(params, Response):
        return params
    try:
        report = delivery_report(params)
    except InvalidFieldError as error:
        return _bad(error)
    outcome = await run_in_threadpool(record_delivery_report, database_of(request.app),
                                      report.message_sid, report.status, report.error_code,
                                      now_of(request))
    return JSONResponse({"message_sid": report.message_sid, "status": outcome.status.value,
                         "changed": outcome.changed})


@router.post(INBOUND_PATH)
async def inbound(request: Request) -> Response:
    """A patient's text: STOP/START recorded, CONFIRM noted, CHANGE answered with the
    portal's link, anything else a helpful answer (TwiML)."""
    params = await _signed_form(request)
    if isinstance(params, Response):
        return params
    try:
        message = inbound_sms(params)
    except InvalidFieldError as error:
        return _bad(error)
    answer = None
    for handler in sms_reply_handlers_of(request.app):  # an answer to an offer, say
        answer = await run_in_threadpool(handler, database_of(request.app), message,
                                         now_of(request))
        if answer is not None:
            break
    if answer is None:
        outcome = await run_in_threadpool(answer_reply, database_of(request.app), message,
                                          service_details(settings_of(request.app)),
                                          now_of(request))
        answer = outcome.answer
    body = f"<Message>{escape(answer)}</Message>" if answer else ""
    return Response(f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>',
                    media_type="text/xml")


async def _signed_form(request: Request) -> list[tuple[str, str]] | Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        return JSONResponse({"detail": f"the body must be {FORM} (Twilio's webhook form), "
                                       f"not '{content_type or 'nothing'}'",
                             "field": "Content-Type"}, status_code=415)
    form = await request.form()
    params = [(name, str(value)) for name, value in form.multi_items()]
    settings = settings_of(request.app)
    url = settings.public_base_url + request.url.path + (
        f"?{request.url.query}" if request.url.query else "")
    try:
        check_signature(settings.twilio_auth_token or "", url, params,
                        request.headers.get(SIGNATURE_HEADER),
                        request.headers.get(SIGNATURE_SETTINGS_HEADER))
    except WebhookSignatureError as error:
        return JSONResponse({"detail": str(error), "field": SIGNATURE_HEADER}, status_code=403)
    return params


def _bad(error: InvalidFieldError) -> JSONResponse:
    return JSONResponse({"detail": str(error), "field": error.field}, status_code=400)

"""The fake Twilio REST API as a Starlette app: the Messages resource the `twilio` client
calls (create and fetch, with Twilio's error bodies and codes), status callbacks signed with
X-Twilio-Signature, and a control API under /fake/ for tests and the demo:

    GET  /fake/messages            what was received (JSON)
    POST /fake/reset               forget messages, faults and opt-outs
    POST /fake/faults              {"kind": "500"|"503"|"429"|"timeout"|"timeout_after_accept",
                                    "count": n | "seconds": s, "hang_seconds": h}
    POST /fake/latency             {"min_ms": 100, "max_ms": 300}
    POST /fake/opt-outs            {"number": "+44..."}   as if the number had replied STOP
    POST /fake/undeliverable       {"number": "+44..."}   its messages end 'undelivered'
    POST /fake/inbound             {"from": "+44...", "body": "...", "url": optional}
                                   a patient's reply: Twilio's keyword rules, then a signed
                                   webhook to `url` or the configured inbound URL (with
                                   OptOutType when "advanced_opt_out": true, as a Messaging
                                   Service with Advanced Opt-Out sends it)
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fake_providers.serving import serve_in_thread
from fake_providers.twilio_state import E164, FakeMessage, FakeTwilioState, FaultKind

API_VERSION = "2010-04-01"
CALLBACK_DELAY_S = 0.05
CALLBACK_TIMEOUT_S = 5.0


def fake_twilio_app(state: FakeTwilioState) -> Starlette:
    api = f"/{API_VERSION}/Accounts/{{account_sid}}"
    app = Starlette(routes=[
        Route(f"{api}/Messages.json", _create_message, methods=["POST"]),
        Route(f"{api}/Messages/{{sid}}.json", _fetch_message, methods=["GET"]),
        Route("/fake/messages", _list_messages, methods=["GET"]),
        Route("/fake/reset", _reset, methods=["POST"]),
        Route("/fake/faults", _add_fault, methods=["POST"]),
        Route("/fake/latency", _set_latency, methods=["POST"]),
        Route("/fake/opt-outs", _opt_out, methods=["POST"]),
        Route("/fake/undeliverable", _undeliverable, methods=["POST"]),
        Route("/fake/inbound", _inbound, methods=["POST"]),
    ])
    app.state.twilio = state
    app.state.tasks = set()
    return app


# --- the Twilio API ------------------------------------------------------------------------


async def _create_message(request: Request) -> Response:
    state: FakeTwilioState = request.app.state.twilio
    refusal = _auth_refusal(request, state)
    if refusal is not None:
        return refusal
    await asyncio.sleep(state.latency_s())
    form = await request.form()
    fault = state.next_fault()
    if fault is not None and fault.kind in _ERROR_FAULTS:
        status, code, text = _ERROR_FAULTS[fault.kind]
        return _twilio_error(status, code, text)
    if fault is not None and fault.kind is FaultKind.TIMEOUT:
        await _hang(state, fault.hang_seconds)
        return _twilio_error(504, 20504, "Gateway timeout")
    params = {name: str(value) for name, value in form.items()}
    problem = _invalid(params, state)
    if problem is not None:
        return problem
    message = state.accept(
        to=params["To"], from_=params.get("From"),
        messaging_service_sid=params.get("MessagingServiceSid"), body=params["Body"],
        status_callback=params.get("StatusCallback"))
    _spawn(request.app, _send_status_callbacks(state, message))
    if fault is not None and fault.kind is FaultKind.TIMEOUT_AFTER_ACCEPT:
        await _hang(state, fault.hang_seconds)
    return JSONResponse(_message_json(message), status_code=201)


async def _fetch_message(request: Request) -> Response:
    state: FakeTwilioState = request.app.state.twilio
    refusal = _auth_refusal(request, state)
    if refusal is not None:
        return refusal
    message = state.message(request.path_params["sid"])
    if message is None:
        return _twilio_error(404, 20404, "The requested resource was not found")
    return JSONResponse(_message_json(message))


async def _hang(state: FakeTwilioState, seconds: float) -> None:
    """Wait `seconds`, or until the server is closing (so shutdown does not cut a request)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline and not state.closing.is_set():
        await asyncio.sleep(0.05)


_ERROR_FAULTS = {
    FaultKind.SERVER_ERROR: (500, 20500, "Internal Server Error"),
    FaultKind.UNAVAILABLE: (503, 20503, "Service Unavailable"),
    FaultKind.RATE_LIMITED: (429, 20429, "Too Many Requests"),
}


def _auth_refusal(request: Request, state: FakeTwilioState) -> Response | None:
    expected = base64.b64encode(f"{state.account_sid}:{state.auth_token}".encode()).decode()
    if (request.headers.get("authorization") != f"Basic {expected}"
            or request.path_params["account_sid"] != state.account_sid):
        return _twilio_error(401, 20003, "Authenticate")
    return None


def _invalid(params: dict[str, str], state: FakeTwilioState) -> Response | None:
    to = params.get("To", "")
    if not to:
        return _twilio_error(400, 21604, "A 'To' phone number is required.")
    if not params.get("From") and not params.get("MessagingServiceSid"):
        return _twilio_error(400, 21603, "A 'From' phone number is required.")
    if not params.get("Body"):
        return _twilio_error(400, 21602, "Message body is required.")
    if len(params["Body"]) > 1600:
        return _twilio_error(400, 21617, "The concatenated message body exceeds the 1600 "
                                         "character limit.")
    if not E164.fullmatch(to):
        return _twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if to in state.opted_out:
        return _twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    return None


def _twilio_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "status": status,
                         "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                        status_code=status)


def _message_json(message: FakeMessage) -> dict[str, Any]:
    uri = f"/{API_VERSION}/Accounts/{message.account_sid}/Messages/{message.sid}.json"
    return {
        "account_sid": message.account_sid, "api_version": API_VERSION, "body": message.body,
        "date_created": message.date_created, "date_sent": None,
        "date_updated": message.date_created, "direction": "outbound-api",
        "error_code": None, "error_message": None, "from": message.from_,
        "messaging_service_sid": message.messaging_service_sid, "num_media": "0",
        "num_segments": str(max(1, -(-len(message.body) // 153))), "price": None,
        "price_unit": "GBP", "sid": message.sid, "status": message.status, "to": message.to,
        "uri": uri, "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
    }


# --- status callbacks and inbound webhooks ----------------------------------------------------


async def _send_status_callbacks(state: FakeTwilioState, message: FakeMessage) -> None:
    final = "undelivered" if message.to in state.undeliverable else "delivered"
    for status in ("sent", final):
        await asyncio.sleep(CALLBACK_DELAY_S)
        state.set_status(message, status)
        if not message.status_callback:
            continue
        params = {"AccountSid": message.account_sid, "ApiVersion": API_VERSION,
                  "From": message.from_ or "", "MessageSid": message.sid,
                  "MessageStatus": status, "SmsSid": message.sid, "SmsStatus": status,
                  "To": message.to}
        if status == "undelivered":
            params["ErrorCode"] = "30003"
        outcome = await _post_signed(state, message.status_callback, params)
        state.record_callback(message, {"status": status, **outcome})


async def _post_signed(state: FakeTwilioState, url: str, params: dict[str, str]
                       ) -> dict[str, Any]:
    headers = {"X-Twilio-Signature": state.sign(url, params),
               "User-Agent": "TwilioProxy/1.1 (fake)"}
    try:
        async with httpx.AsyncClient(timeout=CALLBACK_TIMEOUT_S) as client:
            response = await client.post(url, data=params, headers=headers)
        return {"http_status": response.status_code, "response": response.text[:500]}
    except httpx.HTTPError as error:
        return {"http_status": None, "error": f"{type(error).__name__}: {error}"}


def _spawn(app: Starlette, coroutine: Any) -> None:
    task = asyncio.get_running_loop().create_task(coroutine)
    app.state.tasks.add(task)
    task.add_done_callback(app.state.tasks.discard)


# --- the control API ---------------------------------------------------------------------


async def _list_messages(request: Request) -> Response:
    state: FakeTwilioState = request.app.state.twilio
    return JSONResponse({"messages": [m.as_json() for m in state.messages()],
                         "opted_out": sorted(state.opted_out),
                         "requests_seen": state.requests_seen})


async def _reset(request: Request) -> Response:
    request.app.state.twilio.reset()
    return JSONResponse({"reset": True})


async def _add_fault(request: Request) -> Response:
    body = await request.json()
    try:
        kind = FaultKind(str(body.get("kind")))
    except ValueError:
        return JSONResponse({"error": f"kind must be one of {[k.value for k in FaultKind]}"},
                            status_code=400)
    request.app.state.twilio.add_fault(kind, body.get("count"), body.get("seconds"),
                                       float(body.get("hang_seconds", 15.0)))
    return JSONResponse({"added": kind.value})


async def _set_latency(request: Request) -> Response:
    body = await request.json()
    low, high = int(body.get("min_ms", 0)), int(body.get("max_ms", 0))
    if not 0 <= low <= high:
        return JSONResponse({"error": "need 0 <= min_ms <= max_ms"}, status_code=400)
    request.app.state.twilio.latency_ms = (low, high)
    return JSONResponse({"latency_ms": [low, high]})


async def _opt_out(request: Request) -> Response:
    number = str((await request.json()).get("number", ""))
    request.app.state.twilio.apply_keyword(number, "STOP")
    return JSONResponse({"opted_out": number})


async def _undeliverable(request: Request) -> Response:
    number = str((await request.json()).get("number", ""))
    request.app.state.twilio.undeliverable.add(number)
    return JSONResponse({"undeliverable": number})


async def _inbound(request: Request) -> Response:
    state: FakeTwilioState = request.app.state.twilio
    body = await request.json()
    url = body.get("url") or state.inbound_url
    if not url:
        return JSONResponse({"error": "no inbound webhook URL configured"}, status_code=400)
    sender, text = str(body.get("from", "")), str(body.get("body", ""))
    keyword = state.apply_keyword(sender, text)
    params = {"AccountSid": state.account_sid, "ApiVersion": API_VERSION, "Body": text,
              "From": sender, "MessageSid": "SM" + _hex_id(), "NumMedia": "0",
              "NumSegments": "1", "SmsStatus": "received",
              "To": str(body.get("to", "+447700900000"))}
    params["SmsSid"] = params["SmsMessageSid"] = params["MessageSid"]
    if keyword is not None and body.get("advanced_opt_out"):
        params["OptOutType"] = {"opt_out": "STOP", "opt_in": "START"}[keyword]
    outcome = await _post_signed(state, url, params)
    return JSONResponse({"keyword": keyword, "params": params, **outcome})


def _hex_id() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class RunningFakeTwilio:
    base_url: str
    state: FakeTwilioState

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.state.account_sid}/Messages.json"


@contextmanager
def running_fake_twilio(account_sid: str, auth_token: str, port: int = 0,
                        **options: Any) -> Iterator[RunningFakeTwilio]:
    """A fake Twilio served on 127.0.0.1 until the block ends (options: those of
    FakeTwilioState: status_callback_url, inbound_url, latency_ms, seed)."""
    state = FakeTwilioState(account_sid, auth_token, **options)
    with serve_in_thread(fake_twilio_app(state), port=port) as base_url:
        try:
            yield RunningFakeTwilio(base_url, state)
        finally:
            state.closing.set()

"""`IdempotentRoute`: a FastAPI route class that makes every POST of a router idempotent.

How to use it (the booking routes do this, with the class access builds over
`idempotent_route`, `booking_api.access.deps.IdempotentRoute`)::

    router = APIRouter(prefix="/api/bookings", route_class=IdempotentRoute)

Every POST on that router then:

* needs an `Idempotency-Key` header (1–255 visible ASCII characters; a UUID per intended
  change) — without one it is refused with 400 naming the header;
* runs at most once per (signed-in actor, key): the first response (status, headers,
  body) is stored and a retry with the same key gets exactly those bytes back, with
  `Idempotent-Replayed: true`; the same key with a different path or body gets 422 naming
  the header; a duplicate arriving while the first still runs gets 409;
* keys are scoped to the signed-in caller (`staff:<id>` / `patient:<id>`), so two callers
  never see each other's responses. The caller is looked up (by the `identify` function the
  route class was made with) in the same worker thread as the claim. A
  request from no one signed in (no valid token, or a deactivated account) is passed to
  the route unrecorded: the route's own CurrentStaff/CurrentPatient dependency refuses it.
  Idempotent routes must therefore require sign-in.

Which outcomes are kept: any response the route returned, or the app's exception handlers
made of what it raised (HTTPException, the booking errors), with a status below 500, except
401, 403 and 429 (they are about the credentials or the moment,
not the request: a retry after signing in again must run). Request validation errors (the
route never ran) and failures at or above 500 release the key — unless the route's work
had already committed, in which case the response is kept whatever it was.

Why a route class, and the failure window: the stored response is the very Response
object the client receives, and the claim row is inserted and committed *before* the
route runs, so the database's unique constraint stops concurrent duplicates. The route's
own transaction marks the claim `committed_at` as it commits (a SQLAlchemy `before_commit`
hook, `commit_hooks`, on the service's sessions while the claim is active), so the change
and that mark can never
diverge. What can be lost is only the stored response, if the process dies between the
route's commit and storing it: a retry then gets 409 saying the change was made and to
fetch the current state — never a second execution. A route that has its response before it
commits closes even that window: `keep_with_commit(response)` has the response stored by
the same UPDATE, in the same transaction, as the mark (the booking routes do this; it also
saves a write after every booking). A claim whose work never committed is released, or, if
the process died, replaced once its short lease runs out (`leases`: the owner renews it
while the work runs).

Not for sign-in routes: replaying them would mean storing bearer tokens. Routes must
return a plain (non-streaming) response.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from booking_api.api.deps import clock_of
from booking_api.core.app_state import database_of
from booking_api.idempotency import commit_hooks, leases, services
from booking_api.idempotency.models import KEY_MAX_LENGTH
from booking_api.idempotency.services import KEY_HEADER, Claim, IdempotencyError, StoredResponse

REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_SHAPE = re.compile(rf"^[\x21-\x7e]{{1,{KEY_MAX_LENGTH}}}$")
_UNSTORED_HEADERS = {"content-length", "set-cookie", "date", "server"}
_CREDENTIAL_STATUSES = {401, 403, 429}
logger = logging.getLogger(__name__)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class Caller(Protocol):
    """Whoever is signed in; keys are scoped to `subject` (`staff:<id>`, `patient:<id>`)."""

    @property
    def subject(self) -> str: ...


Identify = Callable[[Request], Caller | None]
"""Blocking: who is signed in, or None. Runs in the claim's worker thread."""


class IdempotencyMisuse(RuntimeError):
    """A route the idempotency layer cannot serve (a developer error)."""


def idempotent_route(identify: Identify) -> type[APIRoute]:
    """A route class making every POST idempotent, keys scoped to whom `identify` finds
    (access builds the one the service uses: `booking_api.access.deps.IdempotentRoute`)."""

    class IdempotentRoute(APIRoute):
        def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
            methods = {method.upper() for method in kwargs.get("methods") or ()}
            if "POST" in methods:
                kwargs["openapi_extra"] = _with_key_parameter(kwargs.get("openapi_extra"))
            super().__init__(path, endpoint, **kwargs)

        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()
            if "POST" not in self.methods:
                return handler

            async def idempotent_handler(request: Request) -> Response:
                return await _run_idempotently(request, handler, identify)

            return idempotent_handler

    return IdempotentRoute


async def _run_idempotently(request: Request, handler: Handler, identify: Identify
                            ) -> Response:
    key = request.headers.get(KEY_HEADER)
    if key is None or not _KEY_SHAPE.match(key):
        return _refusal(400, f"This request needs an {KEY_HEADER} header: 1–{KEY_MAX_LENGTH} "
                        "visible ASCII characters, new for each change you mean to make "
                        "(a UUID is ideal); resend the same value only to retry.")
    fingerprint = services.request_fingerprint(
        request.app.state.settings.secret_key, request.method, request.url.path,
        request.url.query, await request.body())
    try:
        outcome = await run_in_threadpool(_claim_for_caller, request, key, fingerprint,
                                          identify)
    except IdempotencyError as refused:
        return _refusal(refused.status, str(refused))
    if outcome is None:
        return await handler(request)
    if isinstance(outcome, StoredResponse):
        return _replay(outcome)
    bookkeeping = database_of(request.app).bookkeeping
    with leases.kept_alive(bookkeeping, outcome):
        response = await _run_claimed(request, handler, outcome)
        if outcome.stored:
            return response
        if _keeps(response.status_code, outcome.committed):
            await run_in_threadpool(services.complete_key, bookkeeping, outcome,
                                    _stored(response))
        else:
            await _release(bookkeeping, outcome)
    return response


async def _release(bookkeeping: Engine, claim: Claim) -> None:
    """Free the key; if the database is away, its lease lapses and frees it soon instead."""
    try:
        await run_in_threadpool(services.release_key, bookkeeping, claim)
    except DBAPIError as error:
        logger.warning("could not release an idempotency claim; its lease will lapse",
                       extra={"event": "idempotency_release_failed",
                              "error": type(error).__name__})


def _claim_for_caller(request: Request, key: str, fingerprint: str, identify: Identify
                      ) -> Claim | StoredResponse | None:
    """In one worker thread: who is signed in, then the key claimed in their name. None when
    no one is signed in."""
    caller = identify(request)
    if caller is None:
        return None
    database = database_of(request.app)
    return services.claim_key(database.engine, caller.subject, key, fingerprint,
                              clock_of(request)(), database.bookkeeping)


async def _run_claimed(request: Request, handler: Handler, claim: Claim) -> Response:
    """Run the route with the claim active. An exception the app has a handler for becomes
    that handler's response (so it can be kept like a returned one); any other exception
    releases the claim and propagates, unless the route's work had committed, when a 500 is
    kept instead (a retry must not run the work again)."""
    bookkeeping = database_of(request.app).bookkeeping
    try:
        with commit_hooks.claim_active(claim):
            return await handler(request)
    except RequestValidationError:
        await _release(bookkeeping, claim)
        raise
    except Exception as error:
        response = await _handled(request, error)
        if response is not None:
            return response
        if not claim.committed:
            await _release(bookkeeping, claim)
            raise
        logger.exception("route failed after its change committed; keeping a 500 for "
                         "the idempotency key", extra={"event": "idempotent_route_failed"})
        return _refusal(500, "Internal Server Error")


async def _handled(request: Request, error: Exception) -> Response | None:
    """The response of the app's exception handler for `error`, or None if it has none (or
    the handler itself gives up by raising)."""
    handlers = request.app.exception_handlers
    for kind in type(error).__mro__:
        if kind in handlers and kind is not Exception and isinstance(kind, type):
            handler = handlers[kind]
            try:
                if inspect.iscoroutinefunction(handler):
                    return await handler(request, error)
                return await run_in_threadpool(handler, request, error)
            except Exception:
                return None
    return None


def _keeps(status: int, committed: bool) -> bool:
    return committed or (status < 500 and status not in _CREDENTIAL_STATUSES)


def _stored(response: Response) -> StoredResponse:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        raise IdempotencyMisuse(f"{type(response).__name__} has no body to store: idempotent "
                                "routes must return a plain response, not a stream")
    headers = tuple((name, value) for name, value in response.headers.items()
                    if name.lower() not in _UNSTORED_HEADERS)
    return StoredResponse(response.status_code, headers, body)


def _replay(stored: StoredResponse) -> Response:
    response = Response(content=stored.body, status_code=stored.status)
    for name, value in stored.headers:
        response.headers.append(name, value)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _refusal(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=status)


def _with_key_parameter(openapi_extra: dict[str, Any] | None) -> dict[str, Any]:
    extra = dict(openapi_extra or {})
    extra["parameters"] = [*extra.get("parameters", []), {
        "name": KEY_HEADER, "in": "header", "required": True,
        "description": "a new value (e.g. a UUID) per intended change; resend it only to "
                       "retry, and the first response is replayed",
        "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH}}]
    return extra


def keep_with_commit(response: Response) -> None:
    """For a route that has its response before it commits: have it stored with the change,
    in the route's own transaction, instead of in one more after the route returns (and no
    window in which the change has committed but its response is not yet kept). Return this
    very response. Outside an idempotent route, does nothing."""
    commit_hooks.keep_with_commit(_stored(response))

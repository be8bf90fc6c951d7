"""Double submission: every portal form carries a fresh idempotency key (hidden `form_key`);
a change is carried out at most once per (patient, key), using booking_api's idempotency
store, and answered with a redirect (post/redirect/get). A repeat of a finished submission
gets the same redirect; a repeat arriving while the first still runs waits for it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from booking_api.idempotency import services as keys
from patient_portal.signed_in import now_of

WAIT_FOR_FIRST_S = 10.0
_POLL_S = 0.2
MAX_KEY_LENGTH = 64


def submit_once(request: Request, actor: str, form: Mapping[str, str],
                action: Callable[[], Response]) -> Response:
    """Run `action` once for this form's key; a redirect it returns is kept for replays, any
    other answer (a page showing errors, nothing changed) frees the key for a retry."""
    key = form.get("form_key", "")
    if not key or len(key) > MAX_KEY_LENGTH or not key.isalnum():
        return RedirectResponse(request.url.path, status_code=303)
    engine, bookkeeping = request.app.state.engine, request.app.state.bookkeeping_engine
    fingerprint = keys.request_fingerprint(
        request.app.state.settings.secret_key, "POST", request.url.path, "",
        urlencode(sorted((k, v) for k, v in form.items() if k != "csrf_token")).encode())
    outcome = _claim(engine, bookkeeping, actor, key, fingerprint, request)
    if isinstance(outcome, Response):
        return outcome
    try:
        response = action()
    except BaseException:
        keys.release_key(bookkeeping, outcome)
        raise
    location = response.headers.get("location")
    if response.status_code == 303 and location:
        keys.complete_key(bookkeeping, outcome,
                          keys.StoredResponse(303, (("location", location),), b""))
    else:
        keys.release_key(bookkeeping, outcome)
    return response


def _claim(engine: Engine, bookkeeping: Engine, actor: str, key: str, fingerprint: str,
           request: Request) -> keys.Claim | Response:
    deadline = time.monotonic() + WAIT_FOR_FIRST_S
    while True:
        try:
            outcome = keys.claim_key(engine, actor, key, fingerprint, now_of(request),
                                     bookkeeping)
        except keys.KeyStillInProgress:
            if time.monotonic() > deadline:
                return RedirectResponse(request.url.path, status_code=303)
            time.sleep(_POLL_S)
            continue
        except keys.IdempotencyError:
            # The same key with other answers (a page reused from the browser's history):
            # show the page afresh rather than guess which answer was meant.
            return RedirectResponse(request.url.path, status_code=303)
        if isinstance(outcome, keys.StoredResponse):
            location = dict(outcome.headers).get("location", request.url.path)
            return RedirectResponse(location, status_code=303)
        return outcome

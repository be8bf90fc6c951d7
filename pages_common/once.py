"""Double submission: every page form carries a fresh idempotency key (hidden `form_key`);
booking_api's idempotency runs the change at most once per (signed-in caller, key) and keeps
its redirect with the change itself (post/redirect/get). A repeat of a finished submission
gets the same redirect; a repeat arriving while the first still runs waits for it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from booking_api.core.app_state import app_now, database_of, settings_of
from booking_api.idempotency.forms import redirect_answer
from booking_api.idempotency.forms import submit_once as run_once
from booking_api.idempotency.services import IdempotencyError, StoredResponse, request_fingerprint

MAX_KEY_LENGTH = 64


def submit_once(request: Request, subject: str, form: Mapping[str, str], *,
                success: str, action: Callable[[], Response]) -> Response:
    """Run `action` once for this form's key and `subject` (who is signed in). If it changes
    anything, a resend of the form is sent on to `success` (where the action leads)."""
    key = form.get("form_key", "")
    if not key or len(key) > MAX_KEY_LENGTH or not key.isalnum():
        return _again(request)
    fingerprint = request_fingerprint(
        settings_of(request.app).secret_key, "POST", request.url.path, "",
        urlencode(sorted((k, v) for k, v in form.items() if k != "csrf_token")).encode())
    try:
        outcome = run_once(database_of(request.app), subject, key, fingerprint,
                           app_now(request.app), answer=redirect_answer(success),
                           action=action)
    except IdempotencyError:
        # The same key with other answers (a page reused from the browser's history), or
        # still running after the wait: show the page afresh rather than guess.
        return _again(request)
    if isinstance(outcome, StoredResponse):
        return RedirectResponse(dict(outcome.headers).get("location", request.url.path),
                                status_code=303)
    return outcome


def _again(request: Request) -> Response:
    return RedirectResponse(request.url.path, status_code=303)

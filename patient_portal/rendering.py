"""Rendering of portal pages: the portal's templates through the shared page renderer
(`pages_common.rendering`: NHS.UK frontend's macros, CSRF token, form key, CSP nonce, error
summary)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from pages_common.rendering import KM_PER_MILE, LONDON, PageRenderer, clock, long_date, miles
from patient_portal.security import portal_session

__all__ = ["KM_PER_MILE", "LONDON", "clock", "long_date", "miles", "render"]

TEMPLATES = Path(__file__).parent / "templates"
SERVICE_NAME = "Book your imaging appointment"
RENDERER = PageRenderer(TEMPLATES, SERVICE_NAME)


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           errors: Mapping[str, str] | None = None, status: int | None = None
           ) -> HTMLResponse:
    """The page; `errors` (field id → message, in page order) become the error summary, and
    the answer is then 422 (the form was not accepted) unless `status` says otherwise. A
    signed-in browser gets the sign-out button in the header of every page."""
    context = {"signed_in": bool(portal_session(request).get("token")), **(context or {})}
    return RENDERER.render(request, template, context, errors=errors,
                           status=status or (422 if errors else 200))

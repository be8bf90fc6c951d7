"""Jinja2 rendering of portal pages: the portal's templates over NHS.UK frontend's macros
(nhsuk-frontend-jinja), with what every page needs (CSRF token, a fresh idempotency key
for its forms, the CSP nonce, and "Error: " at the start of the title when it shows errors)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    select_autoescape,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse

from patient_portal.security import csrf_token

TEMPLATES = Path(__file__).parent / "templates"
LONDON = ZoneInfo("Europe/London")
SERVICE_NAME = "Book your imaging appointment"


def _environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES),
                             PackageLoader("nhsuk_frontend_jinja", "templates")]),
        autoescape=select_autoescape(("html", "jinja")),
        undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["long_date"] = long_date
    env.filters["clock"] = clock
    env.filters["miles"] = miles
    return env


def long_date(moment: datetime | Any) -> str:
    """'Monday 7 December 2026' in UK local time (dates are shown as they are)."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(LONDON)
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def clock(moment: datetime) -> str:
    """'9:40am' / '2:15pm', in UK local time, as NHS.UK writes times."""
    local = moment.astimezone(LONDON)
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'}"


KM_PER_MILE = 1.609344


def miles(km: float | None) -> str:
    if km is None:
        return "distance not known"
    value = km / KM_PER_MILE
    return f"{value:.1f} miles" if value < 10 else f"{value:.0f} miles"


ENV = _environment()


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           errors: Mapping[str, str] | None = None, status: int | None = None
           ) -> HTMLResponse:
    """The page; `errors` (field id → message, in page order) become the error summary, and
    the answer is then 422 (the form was not accepted) unless `status` says otherwise."""
    errors = dict(errors or {})
    values = {
        "request": request, "csrf_token": csrf_token(request),
        "form_key": uuid.uuid4().hex, "cspNonce": request.state.csp_nonce,
        "errors": errors, "error_list": [{"text": text, "href": f"#{field}"}
                                         for field, text in errors.items()],
        "service_name": SERVICE_NAME, **(context or {})}
    html = ENV.get_template(template).render(values)
    return HTMLResponse(html, status_code=status or (422 if errors else 200))

"""Jinja2 over NHS.UK frontend's macros (nhsuk-frontend-jinja) for a page package's own
templates, with what every page needs (CSRF token, a fresh idempotency key for its forms,
the CSP nonce, the error summary, and "Error: " at the start of the title when it shows
errors), and the UK date, time and distance filters."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
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

from pages_common.security import csrf_token

LONDON = ZoneInfo("Europe/London")
KM_PER_MILE = 1.609344


def long_date(moment: datetime | Any) -> str:
    """'Monday 7 December 2026' in UK local time (dates are shown as they are)."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(LONDON)
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def short_date(moment: datetime | Any) -> str:
    """'7 Dec 2026' in UK local time."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(LONDON)
    return f"{moment.day} {moment:%b %Y}"


@lru_cache(maxsize=8192)
def clock(moment: datetime) -> str:
    """'9:40am' / '2:15pm', in UK local time, as NHS.UK writes times (remembered: a diary
    day shows the same few dozen times in every room, and the zone conversion is the cost)."""
    local = moment.astimezone(LONDON)
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'}"


def miles(km: float | None) -> str:
    if km is None:
        return "distance not known"
    value = km / KM_PER_MILE
    return f"{value:.1f} miles" if value < 10 else f"{value:.0f} miles"


class PageRenderer:
    """Renders one page package's templates (found first in `templates`, then in NHS.UK
    frontend's), each page told the service's name."""

    def __init__(self, templates: Path, service_name: str) -> None:
        self.service_name = service_name
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(templates),
                                 PackageLoader("nhsuk_frontend_jinja", "templates")]),
            autoescape=select_autoescape(("html", "jinja")),
            undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True,
            auto_reload=False)  # templates ship with the code: no stat() of every file each page
        self.env.filters.update(long_date=long_date, short_date=short_date, clock=clock,
                                miles=miles)

    def render(self, request: Request, template: str,
               context: Mapping[str, Any] | None = None, *,
               errors: Mapping[str, str] | None = None, status: int = 200) -> HTMLResponse:
        """The page; `errors` (field id → message, in page order) become the error summary."""
        errors = dict(errors or {})
        values = {
            "request": request, "csrf_token": csrf_token(request),
            "form_key": uuid.uuid4().hex, "cspNonce": request.state.csp_nonce,
            "errors": errors, "error_list": [{"text": text, "href": f"#{field}"}
                                             for field, text in errors.items()],
            "service_name": self.service_name, **(context or {})}
        html = self.env.get_template(template).render(values)
        return HTMLResponse(html, status_code=status)

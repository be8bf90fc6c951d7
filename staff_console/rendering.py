"""Rendering console pages: the shared renderer over the console's templates, with the
signed-in member of staff, their navigation and when their session ends without activity."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from pages_common.rendering import PageRenderer
from staff_console.signed_in import ConsoleStaff, session_ends_at

TEMPLATES = Path(__file__).parent / "templates"
RENDERER = PageRenderer(TEMPLATES, "Imaging network staff console")


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           staff: ConsoleStaff | None = None, errors: Mapping[str, str] | None = None,
           status: int = 200) -> HTMLResponse:
    values = {"staff": staff, "session_ends_at": session_ends_at(request) if staff else None,
              "nav": _navigation(request, staff), **(context or {})}
    return RENDERER.render(request, template, values, errors=errors, status=status)


def _navigation(request: Request, staff: ConsoleStaff | None) -> list[dict[str, Any]]:
    if staff is None:
        return []
    path = request.url.path
    items = [(href, text) for href, text, roles in NAVIGATION if staff.role in roles]
    return [{"href": href, "text": text, "current": path.startswith(href)}
            for href, text in items]


CLERKS = frozenset({"clerk", "manager", "admin"})
NAVIGATION = (("/staff/worklist", "Worklist", CLERKS),
              ("/staff/vetting", "Vetting", frozenset({"vetting"})),
              ("/staff/diary", "Diaries", CLERKS),
              ("/staff/backfill", "Freed slots", CLERKS),
              ("/staff/disruptions", "Disruptions", CLERKS),
              ("/staff/intake", "New request", CLERKS),
              ("/staff/reports", "Reports", frozenset({"manager", "admin"})),
              ("/staff/simulations", "What-if", frozenset({"manager", "admin"})),
              ("/staff/admin", "Admin", frozenset({"admin"})))

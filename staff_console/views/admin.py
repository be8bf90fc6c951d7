"""The administrator's page: staff accounts and their roles (admins only; a clerk is
refused, naming the roles the page needs)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.console.accounts import staff_accounts
from staff_console.rendering import render
from staff_console.views.common import Admin, database

router = APIRouter(prefix="/staff/admin", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def admin_home(request: Request, staff: Admin) -> Response:
    return render(request, "staff/admin.jinja", {"accounts": staff_accounts(database(request))},
                  staff=staff)

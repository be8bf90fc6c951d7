"""The manager dashboard: a month's figures and the year's trends (waiting list, turnaround,
DNA and cancellations, the DM01 bands, utilisation, the variation between trusts), filtered by
month, trust and modality in the query string; each figure as a chart, a table and a CSV
download. For managers and admins; figures only, never personal data.

No page waits for the record's first read beyond `dashboard_wait_seconds`: until it is done
the page says the figures are being worked out (charts and CSVs answer 503 with Retry-After);
after it, pages show the last figures computed with the time they were read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.core.app_state import settings_of
from booking_api.core.errors import InvalidInput
from booking_api.reports.dashboard import (
    TABLES,
    Dashboard,
    DashboardFilters,
    FiguresNotReady,
    dashboard_filters,
    manager_dashboard,
)
from staff_console.charts import CHARTS, chart_svg
from staff_console.rendering import render
from staff_console.signed_in import ConsoleStaff, staff_with
from staff_console.views.common import PageNotFound, database, today

router = APIRouter(prefix="/staff/reports", include_in_schema=False)
Manager = Annotated[ConsoleStaff, staff_with("manager", "admin")]
FigureName = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
MAX_FILTER = 40
RETRY_AFTER_S = 3


@router.get("", response_class=HTMLResponse)
def dashboard_page(request: Request, staff: Manager) -> Response:
    query = request.query_params
    values = {key: query.get(key, "") for key in ("month", "trust", "modality")}
    try:
        shown = _dashboard(request)
    except FiguresNotReady as busy:
        return _not_ready_page(request, staff, busy)
    except InvalidInput as bad:
        shown = manager_dashboard(database(request), _defaults(request), today(request),
                                  _wait_s(request))
        return render(request, "staff/reports.jinja", _context(request, shown, values),
                      staff=staff, errors={bad.field or "month": bad.message}, status=400)
    values["month"] = shown.filters.month.label
    return render(request, "staff/reports.jinja", _context(request, shown, values), staff=staff)


@router.get("/charts/{name}.svg")
def chart(request: Request, name: FigureName, staff: Manager) -> Response:
    if name not in CHARTS:
        raise PageNotFound("There is no such chart.")
    try:
        shown = _dashboard(request)
    except FiguresNotReady as busy:
        return _not_ready(busy)
    except InvalidInput as bad:
        return Response(f"{bad.field}: {bad.message}", status_code=400, media_type="text/plain")
    return Response(chart_svg(shown, name), media_type="image/svg+xml")


@router.get("/tables/{name}.csv")
def table_csv(request: Request, name: FigureName, staff: Manager) -> Response:
    if name not in TABLES:
        raise PageNotFound("There is no such table.")
    try:
        shown = _dashboard(request)
    except FiguresNotReady as busy:
        return _not_ready(busy)
    except InvalidInput as bad:
        return Response(f"{bad.field}: {bad.message}", status_code=400, media_type="text/plain")
    filename = "-".join(part for part in (name, shown.filters.month.label,
                                           shown.filters.trust_id, shown.filters.modality)
                        if part)
    return Response(shown.tables()[name].to_csv(index=False), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})


def _dashboard(request: Request) -> Dashboard:
    query = request.query_params
    picked = {key: (query.get(key) or "").strip() for key in ("month", "trust", "modality")}
    for key, value in picked.items():
        if len(value) > MAX_FILTER:
            raise InvalidInput(f"Choose a {key} from the list", key)
    wait_s = _wait_s(request)
    filters = dashboard_filters(database(request), today(request), picked["month"] or None,
                                picked["trust"] or None, picked["modality"] or None, wait_s)
    return manager_dashboard(database(request), filters, today(request), wait_s)


def _defaults(request: Request) -> DashboardFilters:
    return dashboard_filters(database(request), today(request), wait_s=_wait_s(request))


def _wait_s(request: Request) -> float:
    return settings_of(request.app).dashboard_wait_seconds


def _not_ready_page(request: Request, staff: ConsoleStaff, busy: FiguresNotReady) -> Response:
    again = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    answer = render(request, "staff/reports_not_ready.jinja",
                    {"started_at": busy.started_at, "again": again}, staff=staff)
    answer.headers["Retry-After"] = str(RETRY_AFTER_S)
    return answer


def _not_ready(busy: FiguresNotReady) -> Response:
    return Response(str(busy), status_code=503, media_type="text/plain",
                    headers={"Retry-After": str(RETRY_AFTER_S)})


def _context(request: Request, shown: Dashboard, values: dict[str, str]) -> dict:
    filters = shown.filters
    query = "&".join(f"{key}={value}" for key, value in (
        ("month", filters.month.label), ("trust", filters.trust_id or ""),
        ("modality", filters.modality or "")) if value)
    trust_names = dict(shown.trusts)
    return {
        "dashboard": shown, "values": values, "query": query, "charts": CHARTS,
        "choices": {"months": [(m, m) for m in shown.months],
                    "trusts": list(shown.trusts),
                    "modalities": [(m, m) for m in shown.modalities]},
        "scope": ", ".join(part for part in (
            trust_names.get(filters.trust_id or "", "all trusts"),
            filters.modality or "all modalities") if part),
    }

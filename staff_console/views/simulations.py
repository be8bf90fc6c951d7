"""The service manager's what-if page: start a run of a scenario (YAML) against today's
diaries and lists, watch its progress, and read baseline against scenario with intervals.
Every page says it is a simulation, never the live schedule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.core.errors import BookingError, NotFound
from booking_api.simulation.read_models import run_lines, run_view, start_from_form
from pages_common.forms import FormData, text_of
from staff_console.rendering import render
from staff_console.signed_in import ConsoleStaff, notice_for_this_page, now_of, staff_with
from staff_console.views.common import Form, PageNotFound, database, see_other, today

router = APIRouter(prefix="/staff/simulations", include_in_schema=False)
Manager = Annotated[ConsoleStaff, staff_with("manager", "admin")]
RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]
EXAMPLE = ("name: Saturday lists, network-wide choice\npolicies: {booking: network, "
           "backfill: true}\nchanges:\n  - extend_hours: {trust: SWB, saturdays: true}\n")


@router.get("", response_class=HTMLResponse)
def runs(request: Request, staff: Manager) -> Response:
    return _page(request, staff)


@router.post("")
def start(request: Request, staff: Manager, form: Form) -> Response:
    errors = {}
    scenario = text_of(form, "scenario")
    weeks, replications = _number(form, "weeks", 2, 260, errors), _number(
        form, "replications", 1, 100, errors)
    if not scenario.strip():
        errors["scenario"] = "Enter the scenario"
    if errors:
        return _page(request, staff, errors, form, status=400)
    try:
        run_id = start_from_form(database(request), staff.actor, scenario, weeks, replications,
                                 now_of(request), today(request))
    except BookingError as refused:
        return _page(request, staff, {"scenario": refused.message}, form, status=400)
    return see_other(f"/staff/simulations/{run_id}")


@router.get("/{run_id}", response_class=HTMLResponse)
def run(request: Request, run_id: RunId, staff: Manager) -> Response:
    try:
        view = run_view(database(request), run_id)
    except NotFound:
        raise PageNotFound(f"There is no what-if run {run_id}.") from None
    return render(request, "staff/simulation_run.jinja", {"view": view}, staff=staff)


def _page(request: Request, staff: ConsoleStaff, errors: dict[str, str] | None = None,
          form: FormData | None = None, status: int = 200) -> Response:
    values = {"scenario": text_of(form, "scenario") if form else EXAMPLE,
              "weeks": text_of(form, "weeks") if form else "52",
              "replications": text_of(form, "replications") if form else "10"}
    return render(request, "staff/simulations.jinja", {
        "runs": run_lines(database(request)), "values": values,
        "notice": notice_for_this_page(request)}, staff=staff, errors=errors or {},
        status=status)


def _number(form: FormData, field: str, low: int, high: int, errors: dict[str, str]) -> int:
    text = text_of(form, field).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        errors[field] = f"Enter a whole number from {low} to {high}"
        return low
    return int(text)

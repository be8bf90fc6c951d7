"""What-if routes for managers (and administrators): start a run (a background job), watch
its progress, read its figures, compare two runs. A malformed scenario answers 400 naming
the key; nothing is kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from booking_api.access.deps import IdempotentRoute, ManagerOrAdmin
from booking_api.api.deps import MAX_ID, ReadSessionDep, SessionDep, SettingsDep, now_of
from booking_api.api.errors import ERROR_RESPONSES, booking_error_response
from booking_api.core.app_state import database_of
from booking_api.core.errors import BookingError
from booking_api.simulation import services
from booking_api.simulation.models import SimulationRunCreate, SimulationRunPublic
from booking_api.simulation.read_models import compare_runs
from domain.network import load_reference_network

router = APIRouter(prefix="/api/simulations", tags=["simulations"],
                   route_class=IdempotentRoute, responses=ERROR_RESPONSES)
RunId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("", response_model=SimulationRunPublic, status_code=202)
def start(body: SimulationRunCreate, staff: ManagerOrAdmin, session: SessionDep,
          settings: SettingsDep, request: Request) -> SimulationRunPublic | JSONResponse:
    """Queue a run of the scenario against its baseline from today's diaries and lists."""
    now = now_of(request)
    today = now.astimezone(settings.zone).date()
    try:
        run = services.start_run(session, staff.actor, body, load_reference_network(),
                                 today - timedelta(days=today.weekday()), now)
        public = SimulationRunPublic.model_validate(run, from_attributes=True)
        session.commit()
    except BookingError as error:
        session.rollback()
        return booking_error_response(error)
    return public


@router.get("", response_model=list[SimulationRunPublic])
def list_runs(_staff: ManagerOrAdmin, session: ReadSessionDep) -> list[SimulationRunPublic]:
    return [SimulationRunPublic.model_validate(r, from_attributes=True)
            for r in services.list_runs(session)]


@router.get("/compare")
def compare(_staff: ManagerOrAdmin, session: ReadSessionDep, request: Request,
            left: Annotated[int, Query(ge=1, le=MAX_ID)],
            right: Annotated[int, Query(ge=1, le=MAX_ID)]) -> Any:
    """The network figures of two runs' scenarios side by side."""
    try:
        runs = [SimulationRunPublic.model_validate(services.get_run(session, run_id),
                                                   from_attributes=True)
                for run_id in (left, right)]
        figures = compare_runs(database_of(request.app), left, right)
    except BookingError as error:
        return booking_error_response(error)
    return {"left": runs[0], "right": runs[1], "figures": figures}


@router.get("/{run_id}", response_model=SimulationRunPublic)
def read_run(run_id: RunId, _staff: ManagerOrAdmin, session: ReadSessionDep
             ) -> SimulationRunPublic | JSONResponse:
    try:
        return SimulationRunPublic.model_validate(services.get_run(session, run_id),
                                                  from_attributes=True)
    except BookingError as error:
        return booking_error_response(error)


@router.get("/{run_id}/figures")
def figures(run_id: RunId, _staff: ManagerOrAdmin, session: ReadSessionDep,
            group: Annotated[str | None, Query(max_length=80)] = None) -> Any:
    """Baseline, scenario and difference with 95 % intervals (empty until the run is done)."""
    try:
        run = services.get_run(session, run_id)
    except BookingError as error:
        return booking_error_response(error)
    return [row for row in run.figures or [] if group is None or row["group"] == group]

"""What `booking_api` gives the composition root: its HTTP routers in the order they are
included, the exception handlers and middleware of the JSON API, and its background jobs.
The service knows nothing of the pages; the root (`cdip_web`) puts the two together."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from booking_api.access import views as access_views
from booking_api.api import health
from booking_api.api.errors import install_error_handlers
from booking_api.api.request_id import RequestIdMiddleware
from booking_api.appointments import views as appointment_views
from booking_api.backfill import views as backfill_views
from booking_api.diary import disruption_views
from booking_api.diary import views as diary_views
from booking_api.interop import hl7_views
from booking_api.interop import views as interop_views
from booking_api.interop.fhir import views as fhir_views
from booking_api.interop.fhir.outcome import FhirError, fhir_error_response
from booking_api.outbox import views as outbox_views
from booking_api.outbox import webhooks
from booking_api.search import views as search_views
from booking_api.search.follower import slot_index_ready
from booking_api.simulation import views as simulation_views
from booking_api.vetting import views as vetting_views

API_ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    access_views.auth_router,
    access_views.admin_router,
    access_views.patients_router,
    vetting_views.router,
    vetting_views.staff_router,
    appointment_views.router,
    appointment_views.staff_router,
    appointment_views.holds_router,
    search_views.router,
    diary_views.router,
    disruption_views.router,
    backfill_views.router,
    backfill_views.offers_router,
    outbox_views.router,
    webhooks.router,
    hl7_views.router,
    interop_views.router,
    fhir_views.router,
    simulation_views.router,
)


def install_api(app: FastAPI) -> None:
    """Add the JSON API to `app`: request ids on every request, the error answers (422s
    with bounded inputs), the readiness checks, routes."""
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    app.add_exception_handler(FhirError, _fhir_refusal)
    health.install_readiness(app)
    # Loaded is not enough with a follower running: caught up within the last few seconds.
    health.add_readiness_check(app, "slot_index", slot_index_ready)
    for router in API_ROUTERS:
        app.include_router(router)


async def _fhir_refusal(_request: object, error: Exception) -> object:
    """A FHIR route's dependency refused the request: an OperationOutcome naming it."""
    assert isinstance(error, FhirError)
    return fhir_error_response(error)

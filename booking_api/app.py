"""The FastAPI application factory: settings checked, database engine made, routers and
middleware attached, and the hold sweeper run while the app is up. Uvicorn serves
`create_app()`; tests call it with their own settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from booking_api.access import views as access_views
from booking_api.api import health
from booking_api.api.errors import install_error_handlers
from booking_api.api.request_id import RequestIdMiddleware
from booking_api.appointments import views as appointment_views
from booking_api.appointments.hold_sweeper import sweep_holds_periodically
from booking_api.core.config import Settings, get_settings
from booking_api.core.db import (
    make_bookkeeping_engine,
    make_engine,
    make_session_factory,
    one_statement,
    read_only,
)
from booking_api.requests import views as request_views
from booking_api.slots import views as slot_views
from patient_portal.app import mount_portal


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service; raises UnsafeSettings before anything starts if the settings are unsafe."""
    settings = settings if settings is not None else get_settings()
    settings.check_safe_to_serve()
    engine = make_engine(settings.database_url)
    bookkeeping = make_bookkeeping_engine(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = None
        if settings.hold_sweep_seconds > 0:
            sweeper = asyncio.create_task(
                sweep_holds_periodically(app, settings.hold_sweep_seconds))
        yield
        if sweeper is not None:
            sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await sweeper
        bookkeeping.dispose()
        engine.dispose()

    app = FastAPI(
        title="CDIP imaging network scheduling",
        version=health.service_version(),
        summary="Book imaging examinations across the sites of an NHS imaging network.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.bookkeeping_engine = bookkeeping
    app.state.lookup_engine = one_statement(read_only(engine))  # sign-in checks, per request
    app.state.session_factory = make_session_factory(engine)
    app.state.read_session_factory = make_session_factory(read_only(engine))
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    app.include_router(access_views.auth_router)
    app.include_router(access_views.admin_router)
    app.include_router(request_views.router)
    app.include_router(request_views.staff_router)
    install_error_handlers(app)
    app.include_router(appointment_views.router)
    app.include_router(appointment_views.staff_router)
    app.include_router(slot_views.router)
    mount_portal(app)
    return app

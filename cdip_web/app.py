"""The FastAPI application factory: settings checked, the database opened, the JSON API,
the patient pages and the staff console attached, the slot index made (and warmed in the
background), and the background jobs run for as long as the app is up. Uvicorn serves
`create_app()`; tests call it with their own settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio
from fastapi import FastAPI

from booking_api.access.policy import policy_from_settings
from booking_api.api.body_limit import BodyLimit
from booking_api.api.health import LIVENESS_PATHS, service_version
from booking_api.api.overload import Lane, OverloadGuard
from booking_api.api.strict_transport import StrictTransportMiddleware
from booking_api.backfill.policy import OfferPolicy
from booking_api.backfill.replies import answer_offer_reply
from booking_api.core.config import Environment, Settings, get_settings
from booking_api.database import open_database, pool_options
from booking_api.demo.leftovers import refuse_demo_leftovers
from booking_api.outbox.policy import MessagePolicy
from booking_api.routers import install_api
from booking_api.search.index import SlotIndex
from cdip_web.api_docs import serve_api_docs
from cdip_web.callers import signed_in_caller
from cdip_web.demo_messages import install_demo_pages
from cdip_web.jobs import BackgroundJobs, warm_slot_index
from patient_portal.app import mount_portal
from staff_console.app import mount_console


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service; raises UnsafeSettings before anything starts if the settings are unsafe,
    and in production DemoLeftovers while the database holds demo accounts or patients."""
    settings = settings if settings is not None else get_settings()
    settings.check_safe_to_serve()
    message_policy = MessagePolicy.from_settings(settings)
    offers = OfferPolicy.from_settings(settings) if settings.backfill_enabled else None
    database = open_database(settings.database_url, messages=message_policy, offers=offers,
                             **pool_options(settings))
    if settings.environment is Environment.PRODUCTION:
        try:
            refuse_demo_leftovers(database.engine)
        except Exception:
            database.dispose()
            raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        jobs = BackgroundJobs.start(app)
        yield
        await jobs.stop()
        database.dispose()

    app = FastAPI(
        title="CDIP imaging network scheduling",
        version=service_version(),
        summary="Book imaging examinations across the sites of an NHS imaging network.",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # /docs with local assets: cdip_web.api_docs
        **({} if settings.docs_served else {"openapi_url": None}),
    )
    app.state.settings = settings
    app.state.database = database
    app.state.message_policy = message_policy
    app.state.offer_policy = offers or OfferPolicy()
    app.state.sms_reply_handlers = (
        (partial(answer_offer_reply, policy=offers),) if offers is not None else ())
    app.state.access_policy = policy_from_settings(settings)
    app.state.slot_index = SlotIndex(catch_up_limit=settings.index_catch_up_limit)
    install_api(app)
    serve_api_docs(app)
    mount_portal(app)
    mount_console(app)
    install_demo_pages(app)
    guard_capacity(app, settings)
    if settings.environment is Environment.PRODUCTION:  # outermost: on every answer
        app.add_middleware(StrictTransportMiddleware)
    if settings.environment is not Environment.TEST:
        warm_slot_index(app)
    return app


def guard_capacity(app: FastAPI, settings: Settings) -> None:
    """The outermost middleware: the overload guard (requests admitted per lane, 503 with
    Retry-After beyond), then the body limits (413 before anything parses)."""
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       max_form_bytes=settings.max_form_bytes)
    app.add_middleware(
        OverloadGuard,
        signed_in=Lane("signed_in", settings.max_requests_in_flight,
                       settings.overload_wait_seconds),
        anonymous=Lane("anonymous", settings.max_anonymous_in_flight,
                       settings.overload_wait_seconds),
        is_signed_in=signed_in_caller(settings),
        retry_after_s=settings.overload_retry_after_seconds,
        liveness_paths=LIVENESS_PATHS)

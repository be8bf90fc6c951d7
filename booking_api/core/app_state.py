"""What the composition root keeps on a web app's state, read the same way by the JSON
API's dependencies and by the pages: the settings, the database and the clock (tests set
`app.state.clock` to one they can move)."""

from __future__ import annotations

from datetime import datetime

from starlette.applications import Starlette

from booking_api.core.clock import DEFAULT_CLOCK, Clock
from booking_api.core.config import Settings
from booking_api.core.db import Database


def settings_of(app: Starlette) -> Settings:
    return app.state.settings


def database_of(app: Starlette) -> Database:
    return app.state.database


def app_clock(app: Starlette) -> Clock:
    """The app's clock: `app.state.clock` when set, else the real one."""
    return getattr(app.state, "clock", DEFAULT_CLOCK)


def app_now(app: Starlette) -> datetime:
    return app_clock(app)()


def sms_reply_handlers_of(app: Starlette) -> tuple:
    """Handlers a patient's text goes to before the outbox's own replies (backfill's offer
    answers): each takes (database, inbound text, now) and returns the answer, or None when
    the text is not theirs."""
    return getattr(app.state, "sms_reply_handlers", ())

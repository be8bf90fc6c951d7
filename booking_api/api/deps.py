"""Typed FastAPI dependencies, named for what a route receives, and the bounds every route
puts on ids.

They are `async` although they do no awaiting: FastAPI runs a plain `def` dependency in the
thread pool, and these only read app state or make a Session object (no I/O until used), so a
thread hop per dependency per request would be pure overhead on the booking path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from booking_api.core.app_state import app_clock, database_of
from booking_api.core.clock import Clock
from booking_api.core.config import Settings
from booking_api.core.inputs import MAX_ID

__all__ = ["MAX_ID", "ReadSessionDep", "SessionDep", "SettingsDep", "clock_of", "now_of"]


async def get_settings_of_app(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per HTTP request, closed (rolled back if uncommitted) when it ends. On
    SQLite its transactions take the write lock up front (BEGIN IMMEDIATE)."""
    with database_of(request.app).sessions() as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """A session for routes that only read (search, lists): on SQLite it never queues behind
    a writer. Writing through it is a bug."""
    with database_of(request.app).read_sessions() as session:
        yield session


def clock_of(request: Request) -> Clock:
    return app_clock(request.app)


def now_of(request: Request) -> datetime:
    return clock_of(request)()


SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_of_app)]

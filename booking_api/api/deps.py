"""Typed FastAPI dependencies, named for what a route receives."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from booking_api.core.config import Settings


def get_settings_of_app(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per HTTP request, closed (rolled back if uncommitted) when it ends. On
    SQLite its transactions take the write lock up front (BEGIN IMMEDIATE)."""
    with request.app.state.session_factory() as session:
        yield session


def get_read_session(request: Request) -> Iterator[Session]:
    """A session for routes that only read (search, lists): on SQLite it never queues behind
    a writer. Writing through it is a bug."""
    with request.app.state.read_session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_of_app)]

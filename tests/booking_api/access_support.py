"""What the access and idempotency tests share: a clock they can move, cheap argon2
parameters, an app over a migrated database, and staff accounts made through the service.

Speed: these modules migrate one database of each kind per module (reusing the session's
PostgreSQL database from tests/conftest.py) and empty every table before each test, instead
of migrating a fresh database per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from booking_api.access import services
from booking_api.access.models import AccountRole, StaffCreate
from booking_api.access.policy import AccessPolicy
from booking_api.app import create_app
from booking_api.audit.services import Actor
from booking_api.core import migrate
from booking_api.core.channel import Channel
from booking_api.core.config import Settings
from booking_api.core.db import make_engine, transaction
from booking_api.tables import metadata

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
TEST_POLICY = AccessPolicy(password_hasher=CHEAP_HASHER)
PASSWORD = "correct horse battery"
SETUP = Actor("system:test-setup", Channel.SYSTEM)


@dataclass
class MovableClock:
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 30, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


def make_app(database_url: str, clock: MovableClock,
             policy: AccessPolicy = TEST_POLICY) -> FastAPI:
    app = create_app(Settings(database_url=database_url, environment="test"))
    app.state.clock = clock
    app.state.access_policy = policy
    return app


def add_staff(engine: Engine, username: str, role: AccountRole,
              password: str = PASSWORD) -> int:
    with transaction(engine) as session:
        user = services.create_staff(session, SETUP, StaffCreate(
            username=username, display_name=username.title(), role=role, password=password),
            CHEAP_HASHER)
        assert user.id is not None
        return user.id


def staff_headers(client: TestClient, username: str, password: str = PASSWORD
                  ) -> dict[str, str]:
    response = client.post("/api/auth/staff/sign-in",
                           json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass(frozen=True)
class SharedDatabase:
    url: str
    engine: Engine

    def emptied(self) -> SharedDatabase:
        """Delete every row of every table, children first (on these few rows DELETE is far
        quicker than PostgreSQL's TRUNCATE)."""
        with self.engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())
        return self


@contextmanager
def migrated_database(kind: str, folder: Path, postgres_base: str | None
                      ) -> Iterator[SharedDatabase]:
    """A database of `kind` upgraded to the latest migration, dropped afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'cdip.sqlite3'}"
        schema = None
    else:
        assert postgres_base is not None
        schema = f"t_{uuid.uuid4().hex[:12]}"
        _postgres_admin(postgres_base, f'CREATE SCHEMA "{schema}"')
        url = (make_url(postgres_base).update_query_dict({"options": f"-csearch_path={schema}"})
               .render_as_string(hide_password=False))
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        yield SharedDatabase(url, engine)
    finally:
        engine.dispose()
        if schema is not None and postgres_base is not None:
            _postgres_admin(postgres_base, f'DROP SCHEMA "{schema}" CASCADE')


def _postgres_admin(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()

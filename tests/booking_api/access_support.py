"""What the access and idempotency tests share: a clock they can move, cheap argon2
parameters, an app over a migrated database, staff accounts made through the service, and
fixtures (a test module imports the ones it uses and names them in `__all__`).

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
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from booking_api.access import services
from booking_api.access.models import AccountRole, StaffCreate
from booking_api.access.policy import AccessPolicy
from booking_api.audit.models import AuditEvent
from booking_api.audit.services import Actor
from booking_api.core import migrate
from booking_api.core.channel import Channel
from booking_api.core.config import Settings
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.tables import metadata
from cdip_web.app import create_app

REFERENCE = "JK3D-PNJE-NC"  # the tiny network's patient (tests/booking_api/conftest.py)
BORN = "1960-05-17"
UNKNOWN_REFERENCE = "2345-7234-5X"  # well formed (check character right), nobody has it
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


TEST_CAPACITY = {"max_anonymous_in_flight": 16, "overload_wait_seconds": 10.0}
"""Tests that race a dozen sign-ins test what they race for, not the overload guard (its own
tests set their limits: tests/booking_api/test_availability.py)."""


def make_app(database_url: str, clock: MovableClock,
             policy: AccessPolicy = TEST_POLICY, **settings: Any) -> FastAPI:
    app = create_app(Settings(database_url=database_url, environment="test",
                              **{**TEST_CAPACITY, **settings}))
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
    engine = open_engine(url)
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


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[SharedDatabase]:
    """One migrated database of each kind per test module (see the module docstring)."""
    base = (request.getfixturevalue("postgres_database_url")
            if request.param == "postgresql" else None)
    with migrated_database(request.param, tmp_path_factory.mktemp("db"), base) as database:
        yield database


@pytest.fixture
def migrated_url(shared_database: SharedDatabase) -> str:
    """Overrides the per-test migration of tests/conftest.py: the module's database, empty."""
    return shared_database.emptied().url


@pytest.fixture
def engine(shared_database: SharedDatabase, migrated_url: str) -> Engine:
    return shared_database.engine


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def client(migrated_url: str, clock: MovableClock) -> Iterator[TestClient]:
    with TestClient(make_app(migrated_url, clock)) as client:
        yield client


@pytest.fixture
def admin(engine: Engine, client: TestClient) -> dict[str, str]:
    add_staff(engine, "ada.admin", AccountRole.ADMIN)
    return staff_headers(client, "ada.admin")


@pytest.fixture
def clerk(engine: Engine, client: TestClient) -> dict[str, str]:
    add_staff(engine, "carl.clerk", AccountRole.CLERK)
    return staff_headers(client, "carl.clerk")



# --- requests -------------------------------------------------------------------------------

def patient_sign_in(client: TestClient, reference: str = REFERENCE, born: str = BORN,
                     address: str = "192.0.2.10") -> Response:
    body = {"booking_reference": reference, "date_of_birth": born}
    return TestClient(client.app, client=(address, 4000)).post("/api/auth/patient/sign-in",
                                                               json=body)


def bearer(response: Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def audit_events(engine: Engine, action: str) -> list[AuditEvent]:
    with transaction(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))

"""What the access and idempotency tests share: a clock they can move, cheap argon2
parameters, an app over a migrated database, and staff accounts made through the service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_api.access import services
from booking_api.access.models import AccountRole, StaffCreate
from booking_api.access.policy import AccessPolicy
from booking_api.app import create_app
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.config import Settings
from booking_api.core.db import transaction

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

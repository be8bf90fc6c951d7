"""What a production service refuses or hides: it will not start while the demo's staff
accounts (published password) or patients remain, it sends HSTS, keeps /docs and
/openapi.json off unless asked, and its health check tells outsiders nothing about its
version or environment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_api.access.demo_staff import ensure_demo_staff
from booking_api.access.models import StaffUpdate
from booking_api.access.services import update_staff
from booking_api.api.strict_transport import HSTS_VALUE
from booking_api.core.config import Environment, Settings
from booking_api.core.db import transaction
from booking_api.demo.leftovers import DemoLeftovers
from booking_api.demo.seed import seed_demo
from cdip_web.app import create_app
from tests.booking_api.access_support import CHEAP_HASHER, SETUP

SECRET = "a-production-secret-of-more-than-32-characters"


def production(url: str, **extra: object) -> Settings:
    return Settings(database_url=url, environment="production", secret_key=SECRET, **extra)


@pytest.fixture
def production_client(migrated_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(production(migrated_url)),
                    base_url="https://imaging.example.nhs.uk") as client:
        yield client


def test_production_refuses_to_start_with_an_active_demo_staff_account(
        engine: Engine, migrated_url: str) -> None:
    with transaction(engine) as session:
        ensure_demo_staff(session, Environment.DEMO, CHEAP_HASHER)

    with pytest.raises(DemoLeftovers, match=r"demo\.admin") as refused:
        create_app(production(migrated_url))
    assert "cdip staff deactivate" in str(refused.value)


def test_production_starts_once_the_demo_accounts_are_deactivated(
        engine: Engine, migrated_url: str) -> None:
    with transaction(engine) as session:
        for account in ensure_demo_staff(session, Environment.DEMO, CHEAP_HASHER):
            update_staff(session, SETUP, account.username, StaffUpdate(active=False))

    assert create_app(production(migrated_url)).title


def test_production_refuses_to_start_with_demo_patients(
        engine: Engine, migrated_url: str, tiny_network, tiny_catalogue) -> None:
    seed_demo(engine, today=date(2026, 11, 30), network=tiny_network,
              catalogue=tiny_catalogue, patients=3)

    with pytest.raises(DemoLeftovers, match="3 demo patient"):
        create_app(production(migrated_url))


def test_demo_and_test_environments_start_with_demo_leftovers(
        engine: Engine, migrated_url: str) -> None:
    with transaction(engine) as session:
        ensure_demo_staff(session, Environment.DEMO, CHEAP_HASHER)

    for environment in ("demo", "test"):
        assert create_app(Settings(database_url=migrated_url, environment=environment)).title


def test_production_answers_carry_hsts_on_api_and_pages(production_client: TestClient
                                                        ) -> None:
    for path in ("/health", "/health/ready", "/", "/api/auth/me"):
        assert production_client.get(path).headers["strict-transport-security"] == HSTS_VALUE


def test_hsts_is_not_sent_outside_production(migrated_url: str) -> None:
    with TestClient(create_app(Settings(database_url=migrated_url, environment="demo"))) as c:
        assert "strict-transport-security" not in c.get("/health").headers


def test_production_serves_no_api_docs_by_default(production_client: TestClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert production_client.get(path).status_code == 404


def test_production_serves_api_docs_when_the_setting_asks(migrated_url: str) -> None:
    with TestClient(create_app(production(migrated_url, api_docs=True))) as client:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 200


def test_health_tells_nothing_of_version_or_environment(production_client: TestClient
                                                        ) -> None:
    answer = production_client.get("/health")

    assert answer.status_code == 200
    assert not {"version", "environment"} & set(answer.json())
    assert "production" not in answer.text

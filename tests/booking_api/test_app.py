"""The service skeleton: health check, OpenAPI schema, request ids, JSON logs without personal
data, and refusal to start in production on the demo secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from booking_api.core.config import DEMO_SECRET_KEY, Settings, UnsafeSettings
from booking_api.core.logging import JsonFormatter
from cdip_web.app import create_app


@pytest.fixture
def client(migrated_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=migrated_url, environment="test")
    with TestClient(create_app(settings)) as client:
        yield client


def test_health_says_only_that_the_process_is_live(client: TestClient) -> None:
    for path in ("/health", "/health/live"):
        response = client.get(path)

        assert response.status_code == 200
        assert response.json() == {"status": "ok"}  # no version, environment or database


def test_readiness_answers_503_with_retry_after_when_the_database_is_unreachable(
        tmp_path) -> None:
    # The "database file" is a directory: SQLite cannot open it.
    settings = Settings(database_url=f"sqlite:///{tmp_path}", environment="test")

    with TestClient(create_app(settings)) as client:
        live = client.get("/health/live")
        ready = client.get("/health/ready")

    assert live.status_code == 200
    assert ready.status_code == 503 and ready.headers["retry-after"]
    assert ready.json()["checks"]["database"] == "unreachable"


def test_openapi_schema_lists_the_health_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    assert "/health" in schema["paths"]


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    generated = client.get("/health/ready").headers["x-request-id"]
    echoed = client.get("/health/ready", headers={"X-Request-ID": "caller-id-1234"})
    replaced = client.get("/health/ready", headers={"X-Request-ID": "bad id; <script>"})

    assert len(generated) == 32
    assert echoed.headers["x-request-id"] == "caller-id-1234"
    assert replaced.headers["x-request-id"] not in ("bad id; <script>", "")


def test_request_log_names_the_route_not_the_path(client: TestClient,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="booking_api.http"):
        client.get("/health/ready", headers={"X-Request-ID": "trace-0001-abcd"})
        client.get("/bookings/JK3D-PNJE-NC?dob=1960-05-17")

    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records
             if r.name == "booking_api.http"]
    assert lines[0]["route"] == "/health/ready" and lines[0]["request_id"] == "trace-0001-abcd"
    assert lines[1]["status"] == 404 and lines[1]["route"] is None
    assert all("JK3D" not in json.dumps(line) and "1960" not in json.dumps(line)
               for line in lines)


def test_logged_exception_keeps_its_type_but_not_its_message() -> None:
    try:
        raise ValueError("patient 9990001234 born 1960-05-17")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None,
                                   exc_info=__import__("sys").exc_info())

    line = JsonFormatter().format(record)

    assert json.loads(line)["error_type"] == "ValueError"
    assert "9990001234" not in line


@pytest.mark.parametrize(("secret", "named"), [
    (DEMO_SECRET_KEY, "demo key"),
    ("short-secret", "at least 32"),
])
def test_app_refuses_to_start_in_production_with_a_weak_secret(tmp_path, secret: str,
                                                               named: str) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                        environment="production", secret_key=secret)

    with pytest.raises(UnsafeSettings, match="CDIP_SECRET_KEY") as refused:
        create_app(settings)
    assert named in str(refused.value)


def test_app_starts_in_production_with_a_long_random_secret(tmp_path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                        environment="production", secret_key="k" * 48)

    assert create_app(settings).title

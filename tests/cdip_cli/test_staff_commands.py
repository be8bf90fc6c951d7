"""`cdip staff` as an operator uses it, and the demo accounts `cdip seed` makes only in demo
mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from booking_api.access.demo_staff import NotDemoMode, ensure_demo_staff
from booking_api.access.models import AccountRole, StaffUser
from booking_api.audit.models import AuditEvent
from booking_api.core.config import Environment, Settings, get_settings
from booking_api.core.db import transaction
from cdip_cli import staff_commands
from cdip_cli.staff_commands import seed_demo_staff
from tests.booking_api.access_support import (
    CHEAP_HASHER,
    PASSWORD,
    add_staff,
    admin,
    audit_events,
    clerk,
    client,
    clock,
    engine,
    migrated_url,
    shared_database,
    staff_headers,
)

__all__ = ["admin", "clerk", "client", "clock", "engine", "migrated_url",
           "shared_database"]  # fixtures


# --- command line and demo accounts ----------------------------------------------------------

@pytest.fixture
def cli_settings(monkeypatch: pytest.MonkeyPatch, migrated_url: str) -> Iterator[None]:
    monkeypatch.setenv("CDIP_DATABASE_URL", migrated_url)
    monkeypatch.setenv("CDIP_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cdip_staff_deactivate_signs_the_account_out_and_audits_it(
        cli_settings: None, engine: Engine, client: TestClient) -> None:
    add_staff(engine, "demo.admin", AccountRole.ADMIN)
    headers = staff_headers(client, "demo.admin")

    result = CliRunner().invoke(staff_commands.app, ["deactivate", "demo.admin"])
    missing = CliRunner().invoke(staff_commands.app, ["deactivate", "nobody.here"])

    assert result.exit_code == 0, result.output
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    assert [e.after["active"] for e in audit_events(engine, "update")] == [False]
    assert missing.exit_code != 0 and "nobody.here" in missing.output


def test_cdip_staff_create_prompts_for_the_password_and_audits_the_account(
        cli_settings: None, engine: Engine) -> None:
    created = CliRunner().invoke(staff_commands.app, [
        "create", "ada.admin", "--role", "admin", "--display-name", "Ada Admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n")
    listed = CliRunner().invoke(staff_commands.app, ["list"])

    assert created.exit_code == 0, created.output
    assert PASSWORD not in created.output
    assert "ada.admin" in listed.output and "admin" in listed.output
    with transaction(engine) as session:
        stored = session.scalar(select(StaffUser.password_hash))
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "create"))
    assert stored.startswith("$argon2id$") and event.actor.startswith("cli:")


def test_cdip_staff_set_password_replaces_it_and_signs_the_account_out(
        cli_settings: None, engine: Engine, client: TestClient) -> None:
    add_staff(engine, "hana.clerk", AccountRole.CLERK)
    old_session = staff_headers(client, "hana.clerk")
    new_password = "a brand new passphrase"

    changed = CliRunner().invoke(staff_commands.app, ["set-password", "hana.clerk"],
                                 input=f"{new_password}\n{new_password}\n")

    assert changed.exit_code == 0, changed.output
    assert client.get("/api/auth/me", headers=old_session).status_code == 401
    assert client.post("/api/auth/staff/sign-in", json={
        "username": "hana.clerk", "password": PASSWORD}).status_code == 401
    assert staff_headers(client, "hana.clerk", new_password)
    assert audit_events(engine, "set_password")[-1].actor.startswith("cli:")


@pytest.mark.parametrize(("arguments", "typed", "named"), [
    (["create", "ada.admin", "--role", "admin"], "short\nshort\n", "password"),
    (["create", "Ada Admin", "--role", "admin"], f"{PASSWORD}\n{PASSWORD}\n", "username"),
    (["create", "ada.admin", "--role", "owner"], "", "--role"),
    (["set-role", "nobody", "clerk"], "", "USERNAME"),
])
def test_cdip_staff_refuses_bad_input_naming_it(
        cli_settings: None, engine: Engine, arguments: list[str], typed: str,
        named: str) -> None:
    result = CliRunner().invoke(staff_commands.app, arguments, input=typed)

    assert result.exit_code == 2
    assert named in result.output
    with transaction(engine) as session:
        assert session.scalar(select(StaffUser.id)) is None


def test_demo_staff_are_made_once_one_per_role(engine: Engine) -> None:
    with transaction(engine) as session:
        first = ensure_demo_staff(session, Environment.DEMO, CHEAP_HASHER)
    with transaction(engine) as session:
        second = ensure_demo_staff(session, Environment.DEMO, CHEAP_HASHER)

    assert {account.role for account in first} == set(AccountRole)
    assert all(a.added for a in first) and not any(a.added for a in second)


@pytest.mark.parametrize("environment", [Environment.TEST, Environment.PRODUCTION])
def test_demo_staff_are_never_made_outside_demo_mode(engine: Engine,
                                                     environment: Environment) -> None:
    settings = Settings(database_url="sqlite://", environment=environment,
                        secret_key="k" * 48)

    seed_demo_staff(engine, settings)

    with pytest.raises(NotDemoMode), transaction(engine) as session:
        ensure_demo_staff(session, environment, CHEAP_HASHER)
    with transaction(engine) as session:
        assert session.scalar(select(StaffUser.id)) is None

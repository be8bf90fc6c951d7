"""`cdip db` and `cdip serve` driven as a user would, from an unrelated working directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from booking_api.core import migrate
from booking_api.core.config import get_settings
from cdip_cli import db_commands
from cdip_cli.serve_commands import serve


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """A clean working directory and settings re-read from the environment."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for name in ("DATABASE_URL", "ENVIRONMENT", "SECRET_KEY"):
        monkeypatch.delenv(f"CDIP_{name}", raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _serve_app() -> typer.Typer:
    app = typer.Typer()
    app.command()(serve)
    return app


def test_db_upgrade_works_from_any_directory_and_reports_the_revision(
    environment: pytest.MonkeyPatch, database_url: str
) -> None:
    environment.setenv("CDIP_DATABASE_URL", database_url)

    upgraded = CliRunner().invoke(db_commands.app, ["upgrade"])
    current = CliRunner().invoke(db_commands.app, ["current"])

    assert upgraded.exit_code == 0, upgraded.output
    head = migrate.head_revision()
    assert f"at revision {head}" in upgraded.output
    assert current.output.strip() == f"database: {head}; latest: {head}"


def test_default_database_is_a_file_under_var_of_the_working_directory(
    environment: pytest.MonkeyPatch,
) -> None:
    result = CliRunner().invoke(db_commands.app, ["upgrade"])

    assert result.exit_code == 0, result.output
    assert (Path.cwd() / "var" / "cdip.sqlite3").is_file()


def test_serve_refuses_the_demo_secret_in_production(environment: pytest.MonkeyPatch,
                                                     migrated_url: str) -> None:
    environment.setenv("CDIP_DATABASE_URL", migrated_url)
    environment.setenv("CDIP_ENVIRONMENT", "production")

    result = CliRunner().invoke(_serve_app(), [])

    assert result.exit_code == 2
    assert "Refusing to start" in result.output and "CDIP_SECRET_KEY" in result.output


def test_serve_refuses_a_database_that_is_not_migrated(environment: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    environment.setenv("CDIP_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    result = CliRunner().invoke(_serve_app(), [])

    assert result.exit_code == 2
    assert "cdip db upgrade" in result.output

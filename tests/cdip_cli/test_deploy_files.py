"""deploy/ cannot be run here (no Docker), so its files are checked against the code: the
Compose file parses, every `cdip` command in it exists, every CDIP_* variable is a setting,
the processes reach PostgreSQL through PgBouncer in transaction pooling, PgBouncer's server
pool fits PostgreSQL's limit, and the balancer checks readiness."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
import typer.main
import yaml
from typer.core import TyperGroup

from booking_api.api import health
from booking_api.core.config import Settings
from cdip_cli.main import app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
HEALTH_PATHS = {route.path for route in health.router.routes}


def _command_exists(words: list[str]) -> bool:
    """Whether `words` name a command (not a group), looked up as the CLI itself does
    (groups import their modules on lookup)."""
    command = typer.main.get_command(app)
    for word in words[1:]:
        if word.startswith("-"):
            break
        if not isinstance(command, TyperGroup):
            return False
        command = command.get_command(typer.Context(command), word)
        if command is None:
            return False
    return not isinstance(command, TyperGroup)


def test_compose_runs_every_part_of_the_deployment() -> None:
    assert set(SERVICES) == {"postgres", "pgbouncer", "migrate", "web", "worker", "balancer"}
    assert SERVICES["web"]["deploy"]["replicas"] >= 2


@pytest.mark.parametrize("service", ["migrate", "web", "worker"])
def test_every_cdip_command_in_compose_exists(service: str) -> None:
    words = SERVICES[service]["command"]

    assert words[0] == "cdip" and _command_exists(words), words


@pytest.mark.parametrize("service", ["migrate", "web", "worker"])
def test_every_cdip_variable_is_a_setting(service: str) -> None:
    names = [name for name in SERVICES[service]["environment"] if name.startswith("CDIP_")]

    assert names and all(name[5:].lower() in Settings.model_fields for name in names), names


@pytest.mark.parametrize("service", ["web", "worker"])
def test_nodes_and_workers_go_through_pgbouncer(service: str) -> None:
    url = SERVICES[service]["environment"]["CDIP_DATABASE_URL"]

    assert "@pgbouncer:6432/" in url and url.endswith("?pgbouncer=true")
    assert SERVICES[service]["environment"]["CDIP_RUN_JOBS_IN_SERVER"] == "false"


def test_pgbouncer_pools_transactions_within_postgresqls_limit() -> None:
    ini = configparser.ConfigParser()
    ini.read(DEPLOY / "pgbouncer" / "pgbouncer.ini")
    bouncer = ini["pgbouncer"]
    command = SERVICES["postgres"]["command"]
    max_connections = int(command[command.index("-c") + 1].split("=")[1])

    assert bouncer["pool_mode"] == "transaction"
    assert "options" in bouncer["ignore_startup_parameters"]
    superuser_reserved, admin = 3, 5
    assert (int(bouncer["default_pool_size"]) + int(bouncer["reserve_pool_size"])
            <= max_connections - superuser_reserved - admin)


def test_the_balancer_forwards_headers_and_checks_readiness() -> None:
    config = (DEPLOY / "haproxy" / "haproxy.cfg").read_text()

    assert "option forwardfor" in config and "X-Forwarded-Proto" in config
    checked = re.search(r"option httpchk GET (\S+)", config).group(1)
    container = " ".join(SERVICES["web"]["healthcheck"]["test"])

    assert checked == "/health/ready" and checked in HEALTH_PATHS
    assert "/health/live" in container and "/health/live" in HEALTH_PATHS
    assert SERVICES["web"]["environment"]["FORWARDED_ALLOW_IPS"]

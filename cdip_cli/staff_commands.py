"""`cdip staff`: staff accounts from the command line (the first admin is made here; later
ones can be made by an admin through the API). Passwords are prompted for, never taken as
arguments (they would land in shell history)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session

from booking_api.access import services
from booking_api.access.demo_staff import DEMO_STAFF_PASSWORD, ensure_demo_staff
from booking_api.access.models import AccountRole, StaffCreate, StaffUpdate
from booking_api.access.passwords import WeakPassword
from booking_api.access.policy import DEFAULT_POLICY
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.config import Environment, Settings, get_settings
from booking_api.core.db import transaction
from booking_api.database import open_engine

app = typer.Typer(help="Staff accounts: create, list, change role or password.",
                  no_args_is_help=True)


@app.command()
def create(
    username: str = typer.Argument(..., help="lower-case letters, digits, '.', '_' or '-'"),
    role: AccountRole = typer.Option(..., help="what the account may do"),
    display_name: str = typer.Option(None, help="name shown to colleagues (default: username)"),
) -> None:
    """Add a staff account; prompts for its password twice."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        account = StaffCreate(username=username, display_name=display_name or username,
                              role=role, password=password)
    except ValidationError as error:
        raise typer.BadParameter(_first_problem(error), param_hint=_first_field(error)) from None
    with _session() as session:
        try:
            user = services.create_staff(session, _cli_actor(), account,
                                         DEFAULT_POLICY.password_hasher)
        except WeakPassword as weak:
            raise typer.BadParameter(str(weak), param_hint="password") from None
        except services.StaffAlreadyExists as exists:
            raise typer.BadParameter(str(exists), param_hint="USERNAME") from None
    typer.echo(f"created {user.role} account '{user.username}'")


@app.command("list")
def list_accounts() -> None:
    """Every staff account with its role and whether it is active."""
    with _session() as session:
        for user in services.list_staff(session):
            state = "active" if user.active else "inactive"
            typer.echo(f"{user.username:<24} {user.role:<8} {state:<8} {user.display_name}")


@app.command("set-role")
def set_role(username: str, role: AccountRole) -> None:
    """Change an account's role (signs it out everywhere)."""
    with _session() as session:
        try:
            services.update_staff(session, _cli_actor(), username, StaffUpdate(role=role))
        except services.StaffNotFound as missing:
            raise typer.BadParameter(str(missing), param_hint="USERNAME") from None
    typer.echo(f"'{username}' is now {role}")


@app.command()
def deactivate(username: str) -> None:
    """Deactivate an account (it can no longer sign in; signs it out everywhere)."""
    with _session() as session:
        try:
            services.update_staff(session, _cli_actor(), username, StaffUpdate(active=False))
        except services.StaffNotFound as missing:
            raise typer.BadParameter(str(missing), param_hint="USERNAME") from None
    typer.echo(f"'{username}' is deactivated")


@app.command("set-password")
def set_password(username: str) -> None:
    """Replace an account's password (signs it out everywhere); prompts twice."""
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with _session() as session:
        try:
            services.set_staff_password(session, _cli_actor(), username, password,
                                        DEFAULT_POLICY.password_hasher)
        except services.StaffNotFound as missing:
            raise typer.BadParameter(str(missing), param_hint="USERNAME") from None
        except WeakPassword as weak:
            raise typer.BadParameter(str(weak), param_hint="password") from None
    typer.echo(f"password of '{username}' changed")


def seed_demo_staff(engine: Engine, settings: Settings) -> None:
    """`cdip seed`'s part: demo accounts, in demo mode only, listed for the person trying
    the demo."""
    if settings.environment is not Environment.DEMO:
        return
    with transaction(engine) as session:
        accounts = ensure_demo_staff(session, settings.environment,
                                     DEFAULT_POLICY.password_hasher)
    typer.echo(f"\nDemo staff accounts (password '{DEMO_STAFF_PASSWORD}'):")
    for account in accounts:
        typer.echo(f"  {account.username:<14} {account.role}")


@contextmanager
def _session() -> Iterator[Session]:
    engine = open_engine(get_settings().database_url)
    try:
        with transaction(engine) as session:
            yield session
    finally:
        engine.dispose()


def _cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(f"cli:{user}", Channel.SYSTEM)


def _first_field(error: ValidationError) -> str:
    location = error.errors()[0]["loc"]
    return str(location[-1]) if location else "input"


def _first_problem(error: ValidationError) -> str:
    return error.errors()[0]["msg"]

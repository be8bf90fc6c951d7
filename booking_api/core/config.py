"""The service's settings, read once from `CDIP_*` environment variables, with defaults that
make the demo run on one machine and a check that refuses those defaults in production."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET_KEY = "cdip-demo-secret-key-do-not-use-in-production"
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEMO = "demo"
    TEST = "test"
    PRODUCTION = "production"


class UnsafeSettings(RuntimeError):
    """Settings the service must not run with; the message says which variable to set."""


def default_database_url() -> str:
    """A SQLite file under ./var of the working directory (the folder is made on connect)."""
    return f"sqlite:///{Path.cwd() / 'var' / 'cdip.sqlite3'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CDIP_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    environment: Environment = Environment.DEMO
    secret_key: str = DEMO_SECRET_KEY
    public_base_url: str = "http://127.0.0.1:8000"
    timezone: str = "Europe/London"
    hold_minutes: int = Field(default=10, ge=1, le=60)
    hold_sweep_seconds: float = Field(
        default=30, ge=0, le=3600,
        description="how often each server process releases holds whose time has run out; "
                    "0 turns the sweeper off (the booking path still expires them)")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone name") from None
        return value

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def check_safe_to_serve(self) -> None:
        """Raise UnsafeSettings when the service would run in production on a guessable secret."""
        if self.environment in (Environment.DEMO, Environment.TEST):
            return
        if self.secret_key == DEMO_SECRET_KEY:
            raise UnsafeSettings(
                f"CDIP_SECRET_KEY is the published demo key but CDIP_ENVIRONMENT is "
                f"'{self.environment}': set CDIP_SECRET_KEY to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters (e.g. `python -c 'import secrets; "
                f"print(secrets.token_urlsafe(48))'`)"
            )
        if len(self.secret_key) < MIN_SECRET_LENGTH:
            raise UnsafeSettings(
                f"CDIP_SECRET_KEY has {len(self.secret_key)} characters; in "
                f"'{self.environment}' it needs at least {MIN_SECRET_LENGTH}"
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings()

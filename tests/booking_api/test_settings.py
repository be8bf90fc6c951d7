"""Settings come from CDIP_* variables with demo-safe defaults; bad values name the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from booking_api.core.config import DEMO_SECRET_KEY, Environment, Settings, get_settings


def test_defaults_run_the_demo_on_a_sqlite_file_under_var(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "ENVIRONMENT", "SECRET_KEY", "TIMEZONE", "HOLD_MINUTES"):
        monkeypatch.delenv(f"CDIP_{name}", raising=False)

    settings = Settings()

    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'cdip.sqlite3'}"
    assert settings.environment is Environment.DEMO
    assert settings.secret_key == DEMO_SECRET_KEY
    assert (settings.timezone, settings.hold_minutes) == ("Europe/London", 10)
    settings.check_safe_to_serve()


def test_settings_are_read_from_cdip_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDIP_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/cdip")
    monkeypatch.setenv("CDIP_HOLD_MINUTES", "15")
    monkeypatch.setenv("CDIP_PUBLIC_BASE_URL", "https://book.example.nhs.uk/")
    get_settings.cache_clear()
    try:
        settings = get_settings()
    finally:
        get_settings.cache_clear()

    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.hold_minutes == 15
    assert settings.public_base_url == "https://book.example.nhs.uk"


@pytest.mark.parametrize(("field", "value"), [
    ("environment", "staging"),
    ("timezone", "Europe/Birmingham"),
    ("hold_minutes", 0),
    ("hold_minutes", 120),
    ("reminder_days", "7,seven"),
    ("reminder_days", "7,2; XR_UNKNOWN=3"),
    ("sms_quiet_hours", "22-07"),
    ("sms_quiet_hours", "25:00-08:00"),
    ("smtp_security", "ssl3"),
    ("smtp_port", 0),
    ("message_max_attempts", 0),
    ("message_concurrency", 100),
    ("rules_sweep_hour_utc", 24),
])
def test_bad_setting_is_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**{field: value})

    assert refused.value.errors()[0]["loc"] == (field,)


def test_test_environment_may_use_the_demo_secret() -> None:
    Settings(environment="test").check_safe_to_serve()


def test_the_daily_rules_sweep_is_off_in_tests_unless_asked_for() -> None:
    assert Settings(environment="test").rules_sweep_hour_utc is None
    assert Settings(environment="test", rules_sweep_hour_utc=3).rules_sweep_hour_utc == 3
    assert Settings(environment="demo").rules_sweep_hour_utc == 2

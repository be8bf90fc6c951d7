"""The service's settings, read once from `CDIP_*` environment variables, with defaults that
make the demo run on one machine and a check that refuses those defaults in production."""

from __future__ import annotations

import os
from datetime import time
from enum import StrEnum
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from booking_api.core.columns import CLOCK_OFFSET_ENV

DEMO_SECRET_KEY = "cdip-demo-secret-key-do-not-use-in-production"
MIN_SECRET_LENGTH = 32
STAFF_ROLE_NAMES = frozenset({"clerk", "vetting", "manager", "admin"})
"""The staff roles (booking_api.access.models.AccountRole), for checking settings here."""


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
        description="how often holds whose time has run out are released (once per period "
                    "across all processes); 0 turns the sweep off (the booking path still "
                    "expires them)")
    run_jobs_in_server: bool = Field(
        default=True,
        description="run background jobs (sweeps, messages) inside each `cdip serve`; turn "
                    "off when `cdip worker` processes run them")
    rules_sweep_hour_utc: int | None = Field(
        default=2, ge=0, le=23,
        description="hour (UTC) of the daily re-evaluation of open requests; off in the test "
                    "environment unless set")
    simulation_scheduler: str | None = Field(
        default=None, description="A dask scheduler address for what-if runs; none: runs "
                                  "replicate in the job runner's own process.")
    simulation_workers: int = Field(
        default=0, ge=0, le=64, description="Without a scheduler: a local dask cluster of "
                                            "this many processes per run (0: in process).")
    send_status_out: bool = Field(
        default=True,
        description="the job runner sends status messages to referrers' systems; off in the "
                    "test environment unless set (tests drive that queue themselves)")
    # Capacity: how much work one server process takes on at once (docs/operations.md).
    # In-flight requests ≤ worker threads ≤ database connections, so an admitted request never
    # waits for a thread while holding a connection, nor for a connection while holding a
    # thread; what does not fit is answered 503 with Retry-After at once.
    max_requests_in_flight: int = Field(
        default=24, ge=1, le=1000,
        description="requests one process serves at once from signed-in callers (staff and "
                    "patients with a valid session)")
    max_anonymous_in_flight: int = Field(
        default=4, ge=1, le=1000,
        description="requests one process serves at once from everyone else (sign-in, "
                    "readiness checks, webhooks, public pages)")
    overload_wait_seconds: float = Field(
        default=0.5, ge=0, le=30,
        description="how long a request may wait for a free place before it is answered "
                    "503 with Retry-After")
    overload_retry_after_seconds: int = Field(
        default=1, ge=1, le=3600, description="the Retry-After sent with an overload 503")
    worker_threads: int | None = Field(
        default=None, ge=1, le=1000,
        description="threads for blocking work (database, hashing); default: the two "
                    "in-flight limits added up")
    db_pool_size: int | None = Field(
        default=None, ge=1, le=1000,
        description="database connections kept open per process; default: the worker "
                    "threads")
    db_max_overflow: int = Field(
        default=4, ge=0, le=1000,
        description="connections opened beyond the pool at a peak (background jobs)")
    db_pool_timeout_seconds: float = Field(
        default=5.0, gt=0, le=120,
        description="how long a request waits for a database connection before it is "
                    "answered 503")
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, le=1_073_741_824,
        description="largest request body accepted (413 beyond); checked before parsing")
    max_form_bytes: int = Field(
        default=65_536, ge=256, le=1_073_741_824,
        description="largest submitted form (urlencoded or multipart), all fields together "
                    "(413 beyond); checked before parsing")
    # Messages to patients. SMS goes only when a Twilio account is set, email only when an
    # SMTP host is; rows are written to the outbox either way.
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    twilio_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    twilio_status_callbacks: bool = Field(
        default=True, description="ask Twilio to post delivery reports to our webhook")
    sms_fictional_numbers: bool = Field(
        default=False, description="accept Ofcom's drama numbers (07700 900xxx): demo only")
    sms_quiet_hours: str = Field(
        default="21:00-08:00", pattern=r"^(off|\d{2}:\d{2}-\d{2}:\d{2})$",
        description="UK local times between which no text is sent (held until the end); "
                    "'off' for none (benchmarks)")
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: str = Field(default="none", pattern="^(none|starttls|tls)$")
    smtp_username: str | None = None
    smtp_password: str | None = None
    email_from: str = "appointments@imaging.example.nhs.uk"
    service_phone: str = "0121 496 0000"
    reminder_days: str = Field(default="7,2",
                               description="e.g. '7,2; CT_CONTRAST=10,2' (days before)")
    dna_model_path: Path | None = Field(
        default=None, description="a model saved by `cdip dna evaluate --save`: patients it "
                                  "scores at high risk get an extra reminder")
    message_max_attempts: int = Field(default=12, ge=1, le=50)
    message_retry_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    message_concurrency: int = Field(default=4, ge=1, le=64,
                                     description="messages in flight per process")
    message_lease_seconds: float = Field(
        default=60.0, ge=5, le=3600,
        description="how long a claimed message is a worker's before another may take it")
    index_follow_seconds: float = Field(
        default=0.25, ge=0, le=60,
        description="how often a thread of each web process catches its slot index up with "
                    "the database (0: only as searches come; off in the test environment "
                    "unless set)")
    dashboard_refresh_seconds: float = Field(
        default=300.0, ge=0, le=86_400,
        description="the manager dashboard's figures are computed as each web process starts "
                    "and read again this often when the record changed (0: only as pages come; "
                    "off in the test environment unless set)")
    dashboard_wait_seconds: float = Field(
        default=0.2, ge=0, le=600,
        description="how long a dashboard page waits for the record's first read before it "
                    "says the figures are being computed (120 in the test environment unless "
                    "set)")
    index_catch_up_limit: int = Field(
        default=250_000, ge=1, le=10_000_000,
        description="more changed slots than this since the slot index's last look and it "
                    "reloads instead of merging them in")
    index_ready_within_seconds: float = Field(
        default=5.0, gt=0, le=3600,
        description="/health/ready fails while the slot index has not caught up for this long")
    demo_maildir: Path | None = Field(
        default=None, description="the demo's SMTP catcher's Maildir (/demo/messages)")
    backfill_enabled: bool = Field(
        default=True, description="offer every freed slot to waiting patients (issue 18)")
    backfill_wave_size: int = Field(default=3, ge=1, le=50,
                                    description="patients offered a freed slot at once")
    backfill_offer_minutes: int = Field(default=15, ge=1, le=24 * 60,
                                        description="how long an offer stays open")
    backfill_weekly_offer_limit: int = Field(default=3, ge=1, le=50,
                                             description="offers to one patient a week")
    backfill_min_notice_hours: float = Field(
        default=3.0, ge=0, le=72,
        description="a slot closer than this goes to the clerks' list instead of offers")
    # Access and exposure.
    api_docs: bool | None = Field(
        default=None, description="serve /docs, /redoc and /openapi.json; default: on "
                                  "outside production, off in production")
    trusted_proxies: str = Field(
        default="", description="comma-separated addresses or networks of reverse proxies "
                                "whose X-Forwarded-For is believed; none by default")
    password_hash_concurrency: int = Field(
        default=2, ge=1, le=64,
        description="password checks (argon2, 64 MiB each) run at once per process; a "
                    "sign-in beyond that is answered 503 with Retry-After at once")
    second_factor_roles: str = Field(
        default="admin,manager", pattern=r"^[a-z,]*$",
        description="staff roles that must sign in with a one-time code (TOTP)")

    @property
    def docs_served(self) -> bool:
        """Whether the API's interactive docs and schema are served."""
        if self.api_docs is not None:
            return self.api_docs
        return self.environment is not Environment.PRODUCTION

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"'{part}' is not an IP address or network") from None
        return value

    @field_validator("second_factor_roles")
    @classmethod
    def _known_roles(cls, value: str) -> str:
        unknown = set(filter(None, value.split(","))) - STAFF_ROLE_NAMES
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(sorted(unknown))}: use "
                             f"{', '.join(sorted(STAFF_ROLE_NAMES))}")
        return value

    @model_validator(mode="after")
    def _no_daily_sweep_in_tests(self) -> Settings:
        if self.environment is Environment.TEST:
            if "rules_sweep_hour_utc" not in self.model_fields_set:
                self.rules_sweep_hour_utc = None
            if "send_status_out" not in self.model_fields_set:
                self.send_status_out = False
            if "index_follow_seconds" not in self.model_fields_set:
                self.index_follow_seconds = 0
            if "dashboard_refresh_seconds" not in self.model_fields_set:
                self.dashboard_refresh_seconds = 0
            if "dashboard_wait_seconds" not in self.model_fields_set:
                self.dashboard_wait_seconds = 120
        return self

    @model_validator(mode="after")
    def _capacity_fits(self) -> Settings:
        requests = self.max_requests_in_flight + self.max_anonymous_in_flight
        if self.worker_threads is not None and self.worker_threads < requests:
            raise ValueError(
                f"CDIP_WORKER_THREADS ({self.worker_threads}) is below the requests a "
                f"process admits at once ({requests} = CDIP_MAX_REQUESTS_IN_FLIGHT + "
                "CDIP_MAX_ANONYMOUS_IN_FLIGHT): raise it or lower those")
        if self.db_pool_size is not None and self.db_pool_size < self.threads:
            raise ValueError(
                f"CDIP_DB_POOL_SIZE ({self.db_pool_size}) is below the worker threads "
                f"({self.threads}): a thread would wait for a connection")
        return self

    @property
    def threads(self) -> int:
        """Worker threads of a process (the setting, or the two in-flight limits)."""
        if self.worker_threads is not None:
            return self.worker_threads
        return self.max_requests_in_flight + self.max_anonymous_in_flight

    @property
    def pool_size(self) -> int:
        """Database connections per process (the setting, or one per worker thread)."""
        return self.db_pool_size if self.db_pool_size is not None else self.threads

    @field_validator("reminder_days")
    @classmethod
    def _reminder_schedule(cls, value: str) -> str:
        from notifications.errors import InvalidFieldError
        from notifications.reminders import reminder_policy_from_setting

        try:
            reminder_policy_from_setting(value)
        except InvalidFieldError as error:
            raise ValueError(error.problem) from None
        return value

    @field_validator("sms_quiet_hours")
    @classmethod
    def _wall_clock_times(cls, value: str) -> str:
        if value != "off":
            for part in value.split("-"):
                try:
                    time.fromisoformat(part)
                except ValueError:
                    raise ValueError(f"'{part}' is not a time of day (HH:MM)") from None
        return value

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
        if os.environ.get(CLOCK_OFFSET_ENV):
            raise UnsafeSettings(f"{CLOCK_OFFSET_ENV} moves the clock for tests; unset it in "
                                 f"'{self.environment}'")
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

"""Real `cdip worker` processes for the messages benchmark and the fault tests, pointed at
a scratch database and at the fake providers running in this process; and the providers'
records read back for the offline check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text

from booking_api.background import WORKER_APPLICATION_NAME
from booking_api.core.db import Database
from booking_api.outbox.models import MessageChannel, MessageStatus, OutboxMessage
from cdip_bench.messages_check import Received
from fake_providers.smtp_catcher import RunningSmtpCatcher, running_smtp_catcher
from fake_providers.twilio_server import RunningFakeTwilio, running_fake_twilio

ACCOUNT_SID = "AC" + "be7c4" * 6 + "00"
AUTH_TOKEN = "bench-auth-token"
EMAIL_FROM = "appointments@imaging.example.nhs.uk"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Providers:
    twilio: RunningFakeTwilio
    smtp: RunningSmtpCatcher

    def received(self) -> tuple[list[Received], list[Received]]:
        texts = [Received(f"{m.to}|{m.body}", m.sid, m.accepted_at)
                 for m in self.twilio.state.messages()]
        emails = [Received(str(e.message["Message-ID"]), str(e.message["Message-ID"]),
                           e.received_at.timestamp()) for e in self.smtp.handler.caught()]
        return texts, emails


@contextmanager
def running_providers(latency_ms: tuple[int, int], seed: int = 7) -> Iterator[Providers]:
    with running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN, latency_ms=latency_ms,
                             seed=seed) as twilio, running_smtp_catcher() as smtp:
        yield Providers(twilio, smtp)


def worker_environment(database_url: str, providers: Providers, concurrency: int,
                       lease_s: float = 10.0, timeout_s: float = 3.0) -> dict[str, str]:
    """The settings of a worker in these runs: fast retries, short timeouts and leases, and
    no backfill (these runs measure the outbox: the world's cancellations would otherwise
    send offer texts, which the outbox's check cannot match to its rows)."""
    return {**os.environ,
            "CDIP_DATABASE_URL": database_url, "CDIP_ENVIRONMENT": "test",
            "CDIP_PUBLIC_BASE_URL": "http://127.0.0.1:9",
            "CDIP_TWILIO_STATUS_CALLBACKS": "false",  # no server of ours to take them
            "CDIP_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "CDIP_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "CDIP_TWILIO_FROM_NUMBER": "+447700900999",
            "CDIP_TWILIO_API_BASE_URL": providers.twilio.base_url,
            "CDIP_TWILIO_TIMEOUT_SECONDS": str(timeout_s), "CDIP_SMS_FICTIONAL_NUMBERS": "true",
            "CDIP_SMTP_HOST": providers.smtp.host, "CDIP_SMTP_PORT": str(providers.smtp.port),
            "CDIP_EMAIL_FROM": EMAIL_FROM, "CDIP_HOLD_SWEEP_SECONDS": "0",
            "CDIP_SMS_QUIET_HOURS": "off",  # the run may fall in the night
            "CDIP_MESSAGE_CONCURRENCY": str(concurrency),
            "CDIP_MESSAGE_RETRY_BASE_SECONDS": "0.5", "CDIP_MESSAGE_MAX_ATTEMPTS": "15",
            "CDIP_MESSAGE_LEASE_SECONDS": str(lease_s), "CDIP_BACKFILL_ENABLED": "false"}


@dataclass
class Workers:
    """`cdip worker` subprocesses; their output goes to files in a temporary folder."""

    environment: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cdip-workers-")))

    def start(self, count: int = 1) -> None:
        new = [self._spawn(len(self.processes) + n) for n in range(count)]
        self.processes.extend(process for process, _log in new)
        for process, log in new:
            _wait_started(process, log)

    def kill(self, index: int = 0) -> int:
        """SIGKILL one worker (no clean-up of any kind); returns its pid."""
        process = self.processes[index]
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        return process.pid

    def retire(self, count: int) -> None:
        """Stop the last `count` live workers cleanly (SIGTERM: they finish what they hold)."""
        live = [process for process in self.processes if process.poll() is None]
        for process in live[len(live) - count:]:
            process.send_signal(signal.SIGTERM)
            process.wait(60)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()

    def _spawn(self, number: int) -> tuple[subprocess.Popen, Path]:
        log = self.folder / f"worker-{number}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "cdip_cli.main", "worker"],
                                       env=self.environment, stdout=out,
                                       stderr=subprocess.STDOUT)
        return process, log


def _wait_started(process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while b"worker starting" not in log.read_bytes():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"a worker did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)


def terminate_worker_connections(db: Database) -> int:
    """What a PostgreSQL restart does to the workers: every connection of theirs ended
    (pg_terminate_backend); returns how many."""
    with db.engine.connect() as connection:
        ended = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = :name AND datname = current_database()"),
            {"name": WORKER_APPLICATION_NAME}).scalar_one()
        connection.commit()
    return int(ended)


def queued_due(db: Database) -> int:
    """Messages due now that are not finished (waiting, leased, or backing off)."""
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.state.in_([MessageStatus.PENDING, MessageStatus.SENDING]),
            OutboxMessage.due_at <= datetime.now(UTC),
            OutboxMessage.channel != MessageChannel.LETTER)) or 0


def wait_drained(db: Database, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if queued_due(db) == 0:
            return True
        time.sleep(0.1)
    return False

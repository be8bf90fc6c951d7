"""What the outbox tests share: the booking world with patients who have a mobile and an
email address, the fake Twilio and the SMTP catcher on free local ports, and an `Outbox`
whose senders point at them (the real twilio client over HTTP, smtplib to aiosmtpd).

Test modules import the fixtures they use and name them in `__all__`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from booking_api.core.config import Settings
from booking_api.core.db import Database, make_bookkeeping_engine, make_session_factory
from booking_api.core.db import read_only as read_only_engine
from booking_api.jobs.backoff import RetryPolicy
from booking_api.outbox.delivery import Outbox
from booking_api.outbox.models import MessageStatus, OutboxMessage
from booking_api.outbox.providers import providers_from_settings
from booking_api.patients.models import ContactPreference, Patient
from fake_providers.smtp_catcher import RunningSmtpCatcher, running_smtp_catcher
from fake_providers.twilio_server import RunningFakeTwilio, running_fake_twilio
from tests.booking_api.booking_world import NOW, World, build_world

ACCOUNT_SID = "AC" + "feedc0de" * 4
AUTH_TOKEN = "outbox-test-auth-token"
FROM_NUMBER = "+447700900999"
PUBLIC_URL = "http://127.0.0.1:9"
"""Loopback, port 9 (discard): status callbacks the fake posts there go nowhere."""


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclass
class Messaging:
    """A world whose patients take texts and email, and the fakes its outbox sends to."""

    world: World
    db: Database
    twilio: RunningFakeTwilio
    smtp: RunningSmtpCatcher
    settings: Settings
    clock: Clock = field(default_factory=Clock)

    def outbox(self, owner: str = "test-worker", **retry: Any) -> Outbox:
        policy = RetryPolicy(base=timedelta(seconds=1), max_attempts=retry.get("attempts", 4))
        return Outbox(self.db, providers_from_settings(self.settings), self.clock, policy,
                      timedelta(seconds=retry.get("lease_s", 60)), owner)

    def drain(self, outbox: Outbox | None = None, rounds: int = 20) -> list[MessageStatus]:
        """Claim and deliver until nothing is due now; the fates, in order."""
        outbox = outbox or self.outbox()
        fates = []
        for _ in range(rounds):
            claimed = outbox.claim(10)
            if not claimed:
                return fates
            fates.extend(outbox.deliver(message) for message in claimed)
        return fates

    def rows(self) -> list[OutboxMessage]:
        with self.db.reading() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def texts(self) -> list[Any]:
        return self.twilio.state.messages()

    def emails(self) -> list[Any]:
        return self.smtp.handler.caught()


def phone_of(index: int) -> str:
    return f"+447700900{100 + index:03d}"


def email_of(index: int) -> str:
    return f"patient{index}@example.com"


def database_of(engine: Engine) -> Database:
    return Database(engine=engine, bookkeeping=make_bookkeeping_engine(engine),
                    lookup=engine, sessions=make_session_factory(engine),
                    read_sessions=make_session_factory(read_only_engine(engine)))


def set_contact(engine: Engine, patient_id: int, preference: ContactPreference, *,
                phone: str | None, email: str | None, opted_out: bool = False) -> None:
    with engine.begin() as connection:
        connection.execute(update(Patient).where(Patient.id == patient_id).values(
            contact_preference=preference, phone=phone, email=email, sms_opt_out=opted_out))


@pytest.fixture
def messaging(booking_engine: Engine, tiny_network, tiny_catalogue, tmp_path
              ) -> Iterator[Messaging]:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=4)
    for index, patient_id in enumerate(world.patients):
        set_contact(booking_engine, patient_id, ContactPreference.BOTH, phone=phone_of(index),
                    email=email_of(index))
    with running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN) as twilio, \
            running_smtp_catcher(tmp_path / "mail") as smtp:
        settings = Settings(
            database_url="sqlite://", environment="test", public_base_url=PUBLIC_URL,
            twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
            twilio_from_number=FROM_NUMBER, twilio_api_base_url=twilio.base_url,
            sms_fictional_numbers=True, smtp_host=smtp.host, smtp_port=smtp.port)
        yield Messaging(world, database_of(booking_engine), twilio, smtp, settings)

"""(cdip_web) The demo shows what was sent: with the fake SMS provider and the mail catcher
running, a booking's confirmation is sent by the app's own job runner and listed at /demo/messages
(the text, and the email with its calendar invite to download); the page exists in the
demo only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import Engine

from booking_api.appointments import services
from booking_api.core.config import Settings
from booking_api.patients.models import ContactPreference
from cdip_web.app import create_app
from fake_providers.smtp_catcher import running_smtp_catcher
from fake_providers.twilio_server import running_fake_twilio
from tests.booking_api.booking_world import (
    CLERK,
    World,
    booking_engine,
    build_world,
    migrated_engine,
)
from tests.booking_api.outbox_support import ACCOUNT_SID, AUTH_TOKEN, set_contact

__all__ = ["booking_engine", "migrated_engine"]


@pytest.fixture
def demo(booking_engine: Engine, tiny_network, tiny_catalogue, tmp_path
         ) -> Iterator[tuple[TestClient, World]]:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=1)
    set_contact(booking_engine, world.patients[0], ContactPreference.BOTH,
                phone="+447700900123", email="sam@example.com")
    maildir = tmp_path / "mail"
    with running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN) as twilio, \
            running_smtp_catcher(maildir) as smtp:
        settings = Settings(
            database_url=booking_engine.url.render_as_string(hide_password=False),
            environment="demo", twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
            twilio_from_number="+447700900000", twilio_api_base_url=twilio.base_url,
            twilio_status_callbacks=False, sms_fictional_numbers=True, smtp_host=smtp.host,
            smtp_port=smtp.port, demo_maildir=maildir, sms_quiet_hours="off",
            rules_sweep_hour_utc=None)  # the tiny world's requests are not vetted
        with TestClient(create_app(settings)) as client:
            yield client, world


def _eventually_listed(client: TestClient, *texts: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        page = client.get("/demo/messages").text
        if all(text in page for text in texts):
            return page
        time.sleep(0.2)
    raise AssertionError(f"not listed in time: {texts}\n{page}")


def test_a_booking_confirmation_appears_on_the_demo_page(demo) -> None:
    client, world = demo
    with client.app.state.database.transaction() as session:  # the app's quiet hours: off
        services.book_slot(session, CLERK, world.requests[0], world.slots["S1-XR1"][0],
                           now=datetime.now(UTC))

    page = _eventually_listed(client, "Text messages (1)", "Emails (1)", "+447700900123",
                              "sam@example.com")

    assert "your appointment is booked for" in page
    invite = client.get("/demo/messages/0.ics")
    assert invite.status_code == 200
    assert str(Calendar.from_ical(invite.content)["method"]) == "REQUEST"


def test_the_page_is_not_there_outside_the_demo(booking_engine: Engine) -> None:
    settings = Settings(database_url=booking_engine.url.render_as_string(hide_password=False),
                        environment="test", run_jobs_in_server=False)
    with TestClient(create_app(settings)) as client:
        assert client.get("/demo/messages").status_code == 404

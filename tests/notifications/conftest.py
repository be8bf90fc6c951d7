"""Shared pieces for the notifications tests: a service, a venue and notices built from the
shipped catalogue; a fake Twilio and an SMTP catcher on free local ports; a webhook receiver
(a live Starlette app) that checks each request's signature with our own check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from domain.exams import ExamType, exam_catalogue
from fake_providers.serving import serve_in_thread
from fake_providers.smtp_catcher import RunningSmtpCatcher, running_smtp_catcher
from fake_providers.twilio_server import RunningFakeTwilio, running_fake_twilio
from notifications.errors import WebhookSignatureError
from notifications.notice import AppointmentNotice, ServiceDetails, Venue
from notifications.webhooks import SIGNATURE_HEADER, check_signature

REPO_ROOT = Path(__file__).resolve().parents[2]
ICALJS_READER = Path(__file__).parent / "icaljs_read.mjs"
ACCOUNT_SID = "AC" + "1234567890abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789"
EXAMS = exam_catalogue()

SERVICE = ServiceDetails(portal_url="https://book.example.nhs.uk", phone="0121 496 0000",
                         email_from="bookings@example.nhs.uk", missed_appointment_cost="£160")
VENUE = Venue(name="Northfield Community Diagnostic Centre",
              address="Northfield Community Diagnostic Centre, Bristol Road South, B31 2AA",
              parking="Free car park next to the centre", public_transport="Buses 61 and 63",
              step_free=True, lat=52.41, lon=-1.97)
SUMMER_START = datetime(2026, 7, 14, 8, 30, tzinfo=UTC)  # 9:30am BST
WINTER_START = datetime(2026, 1, 13, 14, 15, tzinfo=UTC)  # 2:15pm GMT


def notice_for(exam: ExamType, start: datetime = SUMMER_START, **changes) -> AppointmentNotice:
    values = dict(request_id=4321, reference="HTK7 3PQ2", exam=exam, venue=VENUE, start=start,
                  end=start + timedelta(minutes=exam.duration_min), patient_name="Sam Patel")
    values.update(changes)
    return AppointmentNotice(**values)


@pytest.fixture
def fake_twilio() -> Iterator[RunningFakeTwilio]:
    with running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def smtp_catcher(tmp_path: Path) -> Iterator[RunningSmtpCatcher]:
    with running_smtp_catcher(tmp_path / "mail") as catcher:
        yield catcher


@dataclass
class WebhookReceiver:
    """A live endpoint that accepts a request only with a valid X-Twilio-Signature."""

    base_url: str = ""
    accepted: list[dict[str, str]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def url(self, path: str = "/twilio/status") -> str:
        return self.base_url + path


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    async def receive(request: Request) -> PlainTextResponse:
        form = await request.form()
        params = [(name, str(value)) for name, value in form.multi_items()]
        try:
            check_signature(AUTH_TOKEN, str(request.url), params,
                            request.headers.get(SIGNATURE_HEADER))
        except WebhookSignatureError as error:
            receiver.refused.append(str(error))
            return PlainTextResponse(str(error), status_code=403)
        receiver.accepted.append(dict(params))
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/twilio/{kind}", receive, methods=["POST"])])
    with serve_in_thread(app) as base_url:
        receiver.base_url = base_url
        yield receiver


@pytest.fixture(scope="session")
def icaljs() -> Callable[[list[Path]], list[dict]]:
    """Parse .ics files with ical.js under node; locally skips without node or the npm
    package, under CI (CI=true) fails."""
    node = shutil.which("node")
    if node is None or not (REPO_ROOT / "node_modules" / "ical.js").is_dir():
        message = "node or the npm package ical.js is missing: run `make setup` (npm ci)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)

    def read(paths: list[Path]) -> list[dict]:
        completed = subprocess.run([node, str(ICALJS_READER), *map(str, paths)],
                                   capture_output=True, text=True, timeout=60, check=False)
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout)

    return read

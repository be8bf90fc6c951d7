"""The fake Twilio behaves like Twilio where our tests lean on it: its control API over HTTP,
Twilio's keyword rules for replies (single words only), its latency, fetching a message with
the real client, and its checks on what it is sent."""

from __future__ import annotations

import time

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from fake_providers.twilio_server import running_fake_twilio

ACCOUNT_SID = "AC" + "f" * 32
AUTH_TOKEN = "fake-token"
PATIENT = "+447911123456"


@pytest.fixture
def fake():
    with running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN, seed=7) as running:
        yield running


@pytest.fixture
def client(fake) -> Client:
    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = fake.base_url
    return client


def test_a_created_message_can_be_fetched_and_listed(fake, client) -> None:
    created = client.messages.create(to=PATIENT, from_="+447700900001", body="hello")
    fetched = client.messages(created.sid).fetch()
    listed = httpx.get(f"{fake.base_url}/fake/messages").json()["messages"]
    assert fetched.sid == created.sid and fetched.body == "hello"
    assert [m["sid"] for m in listed] == [created.sid]


def test_faults_can_be_set_over_http(fake, client) -> None:
    httpx.post(f"{fake.base_url}/fake/faults", json={"kind": "429", "count": 2})
    codes = []
    for _ in range(3):
        try:
            client.messages.create(to=PATIENT, from_="+447700900001", body="x")
            codes.append(201)
        except TwilioRestException as error:
            codes.append(error.status)
    assert codes == [429, 429, 201]


def test_an_unknown_fault_kind_is_refused(fake) -> None:
    answer = httpx.post(f"{fake.base_url}/fake/faults", json={"kind": "meltdown"})
    assert answer.status_code == 400


def test_latency_delays_each_request(fake, client) -> None:
    httpx.post(f"{fake.base_url}/fake/latency", json={"min_ms": 100, "max_ms": 300})
    started = time.monotonic()
    for _ in range(3):
        client.messages.create(to=PATIENT, from_="+447700900001", body="x")
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(("body", "opted_out"), [
    ("STOP", True), ("stop", True), (" Cancel ", True), ("QUIT", True),
    ("STOP please", False), ("please cancel", False), ("CONFIRM", False), ("CHANGE", False),
])
def test_only_a_single_keyword_opts_out(fake, body: str, opted_out: bool) -> None:
    fake.state.apply_keyword(PATIENT, body)
    assert (PATIENT in fake.state.opted_out) is opted_out


def test_start_after_stop_opts_back_in(fake) -> None:
    fake.state.apply_keyword(PATIENT, "STOP")
    fake.state.apply_keyword(PATIENT, "start")
    assert PATIENT not in fake.state.opted_out


@pytest.mark.parametrize(("options", "code"), [
    ({"to": "07911123456", "from_": "+447700900001", "body": "x"}, 21211),
    ({"to": PATIENT, "from_": "+447700900001", "body": "x" * 1601}, 21617),
])
def test_the_fake_checks_what_it_is_sent(client, options: dict, code: int) -> None:
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(**options)
    assert (caught.value.status, caught.value.code) == (400, code)


def test_reset_forgets_messages_and_opt_outs(fake, client) -> None:
    client.messages.create(to=PATIENT, from_="+447700900001", body="x")
    fake.state.apply_keyword(PATIENT, "STOP")
    httpx.post(f"{fake.base_url}/fake/reset")
    listing = httpx.get(f"{fake.base_url}/fake/messages").json()
    assert listing["messages"] == [] and listing["opted_out"] == []

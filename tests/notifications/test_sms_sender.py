"""Sending texts with the real `twilio` client over real HTTP to the project's fake Twilio:
the returned SID is the one the provider recorded; 429, 5xx and timeouts are retryable (and
say when the message may have gone anyway); an opted-out recipient (21610), bad credentials
and bad numbers are permanent; status callbacks arrive signed."""

from __future__ import annotations

import time

import pytest

from fake_providers.serving import free_port
from fake_providers.twilio_state import FaultKind
from notifications.errors import InvalidFieldError, PermanentSendError, RetryableSendError
from notifications.sms_sender import TwilioSettings, TwilioSmsSender
from tests.notifications.conftest import ACCOUNT_SID, AUTH_TOKEN

FROM = "+447700900001"
TO = "+447911123456"
CLIENT_TIMEOUT_S = 0.5


def _sender(base_url: str, token: str = AUTH_TOKEN, **settings) -> TwilioSmsSender:
    return TwilioSmsSender(TwilioSettings(
        account_sid=ACCOUNT_SID, auth_token=token, from_number=FROM, api_base_url=base_url,
        timeout_seconds=CLIENT_TIMEOUT_S, **settings))


def _wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_a_sent_message_returns_the_sid_the_provider_recorded(fake_twilio) -> None:
    receipt = _sender(fake_twilio.base_url).send("07911 123456", "Your appointment is booked.")

    [recorded] = fake_twilio.state.messages()
    assert receipt.sid == recorded.sid and receipt.sid.startswith("SM")
    assert (recorded.to, recorded.from_, recorded.body) == (
        TO, FROM, "Your appointment is booked.")
    assert receipt.status == "queued" and receipt.to == TO


def test_a_messaging_service_can_send_instead_of_a_number(fake_twilio) -> None:
    sender = TwilioSmsSender(TwilioSettings(
        account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, messaging_service_sid="MG" + "a" * 32,
        api_base_url=fake_twilio.base_url))
    receipt = sender.send(TO, "hello")
    assert receipt.status == "accepted"
    assert fake_twilio.state.messages()[0].messaging_service_sid == "MG" + "a" * 32


@pytest.mark.parametrize(("kind", "status", "code"), [
    (FaultKind.RATE_LIMITED, 429, 20429),
    (FaultKind.SERVER_ERROR, 500, 20500),
    (FaultKind.UNAVAILABLE, 503, 20503),
])
def test_rate_limits_and_server_errors_are_retryable(fake_twilio, kind, status, code) -> None:
    fake_twilio.state.add_fault(kind, count=1)
    sender = _sender(fake_twilio.base_url)

    with pytest.raises(RetryableSendError) as caught:
        sender.send(TO, "hello")

    assert (caught.value.http_status, caught.value.provider_code) == (status, code)
    assert not caught.value.outcome_unknown
    assert fake_twilio.state.messages() == []
    assert sender.send(TO, "hello").sid  # the stretch is over


def test_a_timeout_is_retryable_and_says_the_outcome_is_unknown(fake_twilio) -> None:
    fake_twilio.state.add_fault(FaultKind.TIMEOUT, count=1, hang_seconds=3)

    with pytest.raises(RetryableSendError) as caught:
        _sender(fake_twilio.base_url).send(TO, "hello")

    assert caught.value.outcome_unknown
    assert fake_twilio.state.messages() == []


def test_a_timeout_after_the_provider_accepted_is_the_window_a_retry_duplicates(
        fake_twilio) -> None:
    fake_twilio.state.add_fault(FaultKind.TIMEOUT_AFTER_ACCEPT, count=1, hang_seconds=3)
    sender = _sender(fake_twilio.base_url)

    with pytest.raises(RetryableSendError) as caught:
        sender.send(TO, "hello")
    sender.send(TO, "hello")

    assert caught.value.outcome_unknown
    assert [m.body for m in fake_twilio.state.messages()] == ["hello", "hello"]


def test_faults_for_a_stretch_of_time_then_success(fake_twilio) -> None:
    fake_twilio.state.add_fault(FaultKind.SERVER_ERROR, seconds=0.4)
    sender = _sender(fake_twilio.base_url)
    failures = 0
    while True:
        try:
            sender.send(TO, "hello")
            break
        except RetryableSendError:
            failures += 1
            time.sleep(0.1)
    assert failures >= 1 and len(fake_twilio.state.messages()) == 1


def test_an_opted_out_recipient_is_permanent_and_flagged(fake_twilio) -> None:
    fake_twilio.state.apply_keyword(TO, "STOP")

    with pytest.raises(PermanentSendError) as caught:
        _sender(fake_twilio.base_url).send(TO, "hello")

    assert caught.value.opted_out and caught.value.provider_code == 21610


def test_an_opt_in_lifts_the_block(fake_twilio) -> None:
    fake_twilio.state.apply_keyword(TO, "STOP")
    fake_twilio.state.apply_keyword(TO, "START")
    assert _sender(fake_twilio.base_url).send(TO, "hello").sid


def test_wrong_credentials_are_permanent(fake_twilio) -> None:
    with pytest.raises(PermanentSendError) as caught:
        _sender(fake_twilio.base_url, token="not-the-token").send(TO, "hello")
    assert (caught.value.http_status, caught.value.provider_code) == (401, 20003)


def test_no_server_is_retryable_and_known_not_sent() -> None:
    with pytest.raises(RetryableSendError) as caught:
        _sender(f"http://127.0.0.1:{free_port()}").send(TO, "hello")
    assert not caught.value.outcome_unknown


@pytest.mark.parametrize(("to", "body", "field"), [
    ("0121 496 0000", "hello", "to"),
    ("not a number", "hello", "to"),
    (TO, "   ", "body"),
])
def test_bad_input_is_refused_before_any_request(fake_twilio, to, body, field) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        _sender(fake_twilio.base_url).send(to, body)
    assert caught.value.field == field
    assert fake_twilio.state.requests_seen == 0


def test_status_callbacks_arrive_signed_and_are_accepted(fake_twilio, webhook_receiver) -> None:
    sender = _sender(fake_twilio.base_url, status_callback_url=webhook_receiver.url())

    receipt = sender.send(TO, "hello")
    _wait_for(lambda: len(webhook_receiver.accepted) == 2)

    assert [(c["MessageSid"], c["MessageStatus"]) for c in webhook_receiver.accepted] == [
        (receipt.sid, "sent"), (receipt.sid, "delivered")]
    assert webhook_receiver.refused == []


def test_an_undeliverable_number_ends_undelivered_with_an_error_code(
        fake_twilio, webhook_receiver) -> None:
    fake_twilio.state.undeliverable.add(TO)
    _sender(fake_twilio.base_url, status_callback_url=webhook_receiver.url()).send(TO, "hi")
    _wait_for(lambda: len(webhook_receiver.accepted) == 2)
    assert webhook_receiver.accepted[-1]["MessageStatus"] == "undelivered"
    assert webhook_receiver.accepted[-1]["ErrorCode"] == "30003"


@pytest.mark.parametrize(("settings", "field"), [
    ({"account_sid": "AC123"}, "account_sid"),
    ({"auth_token": ""}, "auth_token"),
    ({"from_number": None}, "from_number"),
    ({"api_base_url": "ftp://example.com"}, "api_base_url"),
    ({"status_callback_url": "not a url"}, "status_callback_url"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
])
def test_bad_settings_are_refused_naming_the_field(settings: dict, field: str) -> None:
    values = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": FROM,
              **settings}
    with pytest.raises(InvalidFieldError) as caught:
        TwilioSettings(**values)
    assert caught.value.field == field

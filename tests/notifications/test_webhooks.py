"""Webhooks from Twilio: accepted only with a valid X-Twilio-Signature (Twilio's published
example, and requests the fake signs as Twilio documents), refused when tampered with; their
parameters read into plain data or refused naming the field."""

from __future__ import annotations

import httpx
import pytest

from fake_providers.twilio_state import FakeTwilioState
from notifications.errors import InvalidFieldError, WebhookSignatureError
from notifications.replies import ReplyIntent, reply_intent
from notifications.webhooks import (
    DeliveryStatus,
    check_signature,
    delivery_report,
    inbound_sms,
)
from tests.notifications.conftest import AUTH_TOKEN

# Twilio's documented example ("Validating requests"): token 12345 signs this URL and these
# parameters as GvWf1cFY/Q7PnoempGyD5oXAezc=.
TWILIO_EXAMPLE_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_EXAMPLE_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675310",
                         "Digits": "1234", "From": "+14158675310", "To": "+18005551212"}
TWILIO_EXAMPLE_SIGNATURE = "GvWf1cFY/Q7PnoempGyD5oXAezc="
SID = "SM" + "0123456789abcdef" * 2
PATIENT = "+447911123456"


def test_twilios_published_example_is_accepted() -> None:
    check_signature("12345", TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS,
                    TWILIO_EXAMPLE_SIGNATURE)


def test_parameters_as_repeated_pairs_are_accepted_too() -> None:
    check_signature("12345", TWILIO_EXAMPLE_URL, list(TWILIO_EXAMPLE_PARAMS.items()),
                    TWILIO_EXAMPLE_SIGNATURE)


@pytest.mark.parametrize(("token", "url", "params", "signature", "says"), [
    ("12345", TWILIO_EXAMPLE_URL, {**TWILIO_EXAMPLE_PARAMS, "Digits": "9999"},
     TWILIO_EXAMPLE_SIGNATURE, "does not match"),
    ("12345", TWILIO_EXAMPLE_URL, {**TWILIO_EXAMPLE_PARAMS, "Extra": "1"},
     TWILIO_EXAMPLE_SIGNATURE, "does not match"),
    ("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", TWILIO_EXAMPLE_PARAMS,
     TWILIO_EXAMPLE_SIGNATURE, "does not match"),
    ("54321", TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS, TWILIO_EXAMPLE_SIGNATURE,
     "does not match"),
    ("12345", TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS, None, "header is missing"),
    ("12345", TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS, "", "header is missing"),
    ("", TWILIO_EXAMPLE_URL, TWILIO_EXAMPLE_PARAMS, TWILIO_EXAMPLE_SIGNATURE, "no Twilio auth"),
])
def test_a_tampered_or_unsigned_request_is_refused(token, url, params, signature,
                                                   says) -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        check_signature(token, url, params, signature)
    assert says in str(caught.value)


def test_a_reply_through_the_fake_reaches_us_signed(fake_twilio, webhook_receiver) -> None:
    answer = httpx.post(f"{fake_twilio.base_url}/fake/inbound", json={
        "from": PATIENT, "body": "CONFIRM", "url": webhook_receiver.url("/twilio/inbound")})

    assert answer.json()["http_status"] == 200
    [params] = webhook_receiver.accepted
    message = inbound_sms(params)
    assert (message.from_number, message.body) == (PATIENT, "CONFIRM")
    assert reply_intent(message.body, message.opt_out_type) is ReplyIntent.CONFIRM


def test_a_stop_through_the_fake_blocks_the_number_and_reaches_us_as_opt_out(
        fake_twilio, webhook_receiver) -> None:
    httpx.post(f"{fake_twilio.base_url}/fake/inbound", json={
        "from": PATIENT, "body": "Stop", "url": webhook_receiver.url("/twilio/inbound"),
        "advanced_opt_out": True})

    message = inbound_sms(webhook_receiver.accepted[0])
    assert message.opt_out_type == "STOP"
    assert reply_intent(message.body, message.opt_out_type) is ReplyIntent.OPT_OUT
    assert PATIENT in fake_twilio.state.opted_out


def test_a_request_signed_with_another_token_is_refused_by_the_receiver(
        webhook_receiver) -> None:
    params = {"MessageSid": SID, "MessageStatus": "delivered"}
    url = webhook_receiver.url()
    forger = FakeTwilioState("AC" + "0" * 32, "another-token")
    answer = httpx.post(url, data=params,
                        headers={"X-Twilio-Signature": forger.sign(url, params)})
    assert answer.status_code == 403 and "does not match" in answer.text
    assert webhook_receiver.accepted == []


def test_the_receiver_accepts_what_the_fake_signs_with_our_token(webhook_receiver) -> None:
    signer = FakeTwilioState("AC" + "0" * 32, AUTH_TOKEN)
    params = {"MessageSid": SID, "MessageStatus": "delivered"}
    url = webhook_receiver.url()
    answer = httpx.post(url, data=params,
                        headers={"X-Twilio-Signature": signer.sign(url, params)})
    assert answer.status_code == 200


def test_a_delivery_report_reads_status_and_error_code() -> None:
    report = delivery_report({"MessageSid": SID, "MessageStatus": "undelivered",
                              "ErrorCode": "30003"})
    assert (report.message_sid, report.status, report.error_code) == (
        SID, DeliveryStatus.UNDELIVERED, 30003)
    assert report.status.is_final


@pytest.mark.parametrize(("params", "field"), [
    ({"MessageStatus": "sent"}, "MessageSid"),
    ({"MessageSid": "XX123", "MessageStatus": "sent"}, "MessageSid"),
    ({"MessageSid": SID, "MessageStatus": "exploded"}, "MessageStatus"),
    ({"MessageSid": SID}, "MessageStatus"),
    ({"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "abc"}, "ErrorCode"),
])
def test_a_bad_delivery_report_is_refused_naming_the_field(params: dict, field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        delivery_report(params)
    assert caught.value.field == field


@pytest.mark.parametrize(("params", "field"), [
    ({"From": PATIENT, "To": "+447700900001", "Body": "hi"}, "MessageSid"),
    ({"MessageSid": SID, "To": "+447700900001", "Body": "hi"}, "From"),
    ({"MessageSid": SID, "From": "07911 123456", "To": "+447700900001", "Body": "hi"}, "From"),
    ({"MessageSid": SID, "From": PATIENT, "Body": "hi"}, "To"),
    ({"MessageSid": SID, "From": PATIENT, "To": "+447700900001", "Body": "x" * 1601}, "Body"),
])
def test_a_bad_inbound_message_is_refused_naming_the_field(params: dict, field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        inbound_sms(params)
    assert caught.value.field == field


def test_a_parameter_given_twice_with_different_values_is_refused() -> None:
    with pytest.raises(InvalidFieldError) as caught:
        inbound_sms([("MessageSid", SID), ("From", PATIENT), ("From", "+447911000000"),
                     ("To", "+447700900001"), ("Body", "hi")])
    assert caught.value.field == "From"

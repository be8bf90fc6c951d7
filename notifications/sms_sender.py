"""Sending one text message through Twilio's own Python library (`twilio.rest.Client`).

The API base URL is a setting: production leaves it at Twilio's; tests and the demo point it
at the project's fake Twilio server, so the real client talks real HTTP. One call, one attempt:
the client's own retries are off, and a failure comes back as a RetryableSendError or a
PermanentSendError for the outbox worker to act on. Twilio has no idempotency key, so the
caller must record the returned message SID before it does anything else."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from notifications.errors import (
    InvalidFieldError,
    PermanentSendError,
    RetryableSendError,
    SendError,
)
from notifications.phone_numbers import e164_mobile_number

TWILIO_API_BASE_URL = "https://api.twilio.com"
OPTED_OUT = 21610
"""Twilio: the recipient replied STOP; nothing more may be sent until they reply START."""
RATE_LIMITED = 20429
_UNKNOWN_OUTCOME_STATUSES = {502, 504}
"""A gateway error or timeout in front of Twilio may hide a message it accepted."""


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    from_number: str | None = None
    """The sending number (E.164) or alphanumeric sender ID; or use a Messaging Service."""
    messaging_service_sid: str | None = None
    api_base_url: str = TWILIO_API_BASE_URL
    status_callback_url: str | None = None
    """Public URL Twilio posts delivery status to (signed with the auth token)."""
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not (self.account_sid.startswith("AC") and len(self.account_sid) == 34):
            raise InvalidFieldError("account_sid", "must be a Twilio account SID (AC + 32)")
        if not self.auth_token:
            raise InvalidFieldError("auth_token", "is required")
        if not self.from_number and not self.messaging_service_sid:
            raise InvalidFieldError("from_number", "give a sending number or a "
                                                   "messaging_service_sid")
        for name in ("api_base_url", "status_callback_url"):
            url = getattr(self, name)
            if url is not None and (urlsplit(url).scheme not in {"http", "https"}
                                    or not urlsplit(url).hostname):
                raise InvalidFieldError(name, f"'{url}' is not an http(s) URL")
        if not 0 < self.timeout_seconds <= 120:
            raise InvalidFieldError("timeout_seconds", "must be above 0 and at most 120")


@dataclass(frozen=True)
class SmsReceipt:
    sid: str
    """Twilio's message SID: the key its status callbacks will carry."""
    status: str
    to: str


class TwilioSmsSender:
    """Sends text messages with one Twilio client (one HTTP connection pool) per sender."""

    def __init__(self, settings: TwilioSettings, http_client: TwilioHttpClient | None = None,
                 fictional_numbers: bool = False) -> None:
        self.settings = settings
        self._fictional = fictional_numbers
        self._client = Client(
            settings.account_sid, settings.auth_token,
            http_client=http_client or TwilioHttpClient(timeout=settings.timeout_seconds))
        self._client.api.base_url = settings.api_base_url.rstrip("/")

    def send(self, to: str, body: str) -> SmsReceipt:
        """Send `body` to the mobile number `to`. Raises InvalidFieldError for a bad number or
        empty body (before any request), else RetryableSendError / PermanentSendError."""
        number = e164_mobile_number(to, "to", fictional=self._fictional)
        if not body.strip():
            raise InvalidFieldError("body", "is empty")
        options = {"to": number, "body": body}
        if self.settings.messaging_service_sid:
            options["messaging_service_sid"] = self.settings.messaging_service_sid
        if self.settings.from_number:
            options["from_"] = self.settings.from_number
        if self.settings.status_callback_url:
            options["status_callback"] = self.settings.status_callback_url
        try:
            message = self._client.messages.create(**options)
        except TwilioRestException as error:
            raise send_error_of(error) from error
        except requests.RequestException as error:
            raise _network_error(error) from error
        except TwilioException as error:
            raise RetryableSendError(f"Twilio client error: {error}",
                                     outcome_unknown=True) from error
        if not message.sid:
            raise RetryableSendError("Twilio answered without a message SID",
                                     outcome_unknown=True)
        return SmsReceipt(sid=message.sid, status=str(message.status), to=number)


def send_error_of(error: TwilioRestException) -> SendError:
    """Our error for an error answer from Twilio's API."""
    code, status = error.code, error.status
    text = f"Twilio refused the message (HTTP {status}, code {code}): {error.msg}"
    if code == OPTED_OUT:
        return PermanentSendError(f"the recipient has opted out (replied STOP): {error.msg}",
                                  provider_code=code, http_status=status, opted_out=True)
    if status == 429 or code == RATE_LIMITED:
        return RetryableSendError(text, provider_code=code, http_status=status)
    if status >= 500:
        return RetryableSendError(text, provider_code=code, http_status=status,
                                  outcome_unknown=status in _UNKNOWN_OUTCOME_STATUSES)
    return PermanentSendError(text, provider_code=code, http_status=status)


def _network_error(error: requests.RequestException) -> RetryableSendError:
    """A request that got no answer. Only a failure to connect proves nothing was sent."""
    never_sent = _never_connected(error)
    kind = "timed out" if isinstance(error, requests.Timeout) else "failed"
    return RetryableSendError(f"the request to Twilio {kind}: {error}",
                              outcome_unknown=not never_sent)


def _never_connected(error: requests.RequestException) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    cause = error.args[0] if error.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError | ConnectTimeoutError)

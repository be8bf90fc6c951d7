"""Requests Twilio makes to us: an inbound text (a patient's reply) and a message status
callback. Each is accepted only with a valid X-Twilio-Signature, checked by Twilio's own
`RequestValidator` against the public URL Twilio called (behind a proxy that is not the URL
the app sees). Then its parameters are read into plain data, naming any field that is
missing or malformed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from twilio.request_validator import RequestValidator, get_signature_algorithm

from notifications.errors import InvalidFieldError, WebhookSignatureError

SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
MAX_BODY_LENGTH = 1600
"""Twilio's own limit for one message body."""

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")

Params = Mapping[str, str] | Iterable[tuple[str, str]]
"""Form parameters: a mapping, or (name, value) pairs when a name may repeat."""


class DeliveryStatus(StrEnum):
    """Twilio's message statuses that a status callback can carry."""

    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in {DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED,
                        DeliveryStatus.FAILED, DeliveryStatus.READ, DeliveryStatus.CANCELED}


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    from_number: str
    """E.164."""
    to_number: str
    body: str
    opt_out_type: str | None
    """Twilio's OptOutType (STOP, START, HELP) when it recognised a keyword."""


@dataclass(frozen=True)
class DeliveryReport:
    message_sid: str
    status: DeliveryStatus
    error_code: int | None


def check_signature(auth_token: str, url: str, params: Params, signature: str | None,
                    signature_settings: str | None = None) -> None:
    """Raise WebhookSignatureError unless `signature` (the X-Twilio-Signature header) signs
    `url` and `params` with `auth_token`. `url` is the full public URL Twilio requested,
    query string included."""
    if not auth_token:
        raise WebhookSignatureError("no Twilio auth token is configured to check signatures")
    if not signature:
        raise WebhookSignatureError(f"the {SIGNATURE_HEADER} header is missing")
    algorithm = get_signature_algorithm(signature_settings)
    validator = RequestValidator(auth_token)
    if not validator.validate(url, _MultiParams(params), signature, algorithm):
        raise WebhookSignatureError(
            f"the {SIGNATURE_HEADER} header does not match this request to {url} (wrong "
            "token, a changed parameter, or a URL other than the one Twilio called)")


def inbound_sms(params: Params) -> InboundSms:
    """An inbound message webhook's parameters; raises InvalidFieldError naming the field."""
    values = _single_values(params)
    body = values.get("Body", "")
    if len(body) > MAX_BODY_LENGTH:
        raise InvalidFieldError("Body", f"is longer than {MAX_BODY_LENGTH} characters")
    return InboundSms(
        message_sid=_sid(values, "MessageSid", "SM", "MM"),
        from_number=_e164(values, "From"), to_number=_e164(values, "To"),
        body=body, opt_out_type=values.get("OptOutType") or None)


def delivery_report(params: Params) -> DeliveryReport:
    """A status callback's parameters; raises InvalidFieldError naming the field."""
    values = _single_values(params)
    status_text = values.get("MessageStatus") or values.get("SmsStatus") or ""
    try:
        status = DeliveryStatus(status_text.strip().lower())
    except ValueError:
        raise InvalidFieldError("MessageStatus", f"'{status_text}' is not a message status "
                                f"({', '.join(s.value for s in DeliveryStatus)})") from None
    code_text = (values.get("ErrorCode") or "").strip()
    if code_text and not code_text.isdigit():
        raise InvalidFieldError("ErrorCode", f"'{code_text}' is not a number")
    return DeliveryReport(message_sid=_sid(values, "MessageSid", "SM", "MM"), status=status,
                          error_code=int(code_text) if code_text else None)


class _MultiParams:
    """Parameters in the shape `RequestValidator` reads (it asks for `getlist`)."""

    def __init__(self, params: Params) -> None:
        items = params.items() if isinstance(params, Mapping) else params
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(name, []).append(value)

    def __iter__(self):
        return iter(self._values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def getlist(self, name: str) -> list[str]:
        return self._values[name]


def _single_values(params: Params) -> dict[str, str]:
    items = params.items() if isinstance(params, Mapping) else params
    values: dict[str, str] = {}
    for name, value in items:
        if name in values and values[name] != value:
            raise InvalidFieldError(name, "is given more than once")
        values[name] = value
    return values


def _required(values: Mapping[str, str], name: str) -> str:
    value = (values.get(name) or "").strip()
    if not value:
        raise InvalidFieldError(name, "is required")
    return value


def _sid(values: Mapping[str, str], name: str, *prefixes: str) -> str:
    sid = _required(values, name)
    if len(sid) != 34 or not sid.startswith(prefixes) or not sid[2:].isalnum():
        raise InvalidFieldError(name, f"'{sid}' is not a Twilio message SID")
    return sid


def _e164(values: Mapping[str, str], name: str) -> str:
    """A number Twilio sends: already E.164, so only its shape is checked (a strict check
    could refuse a real sender from a range the number library does not know yet)."""
    number = _required(values, name)
    if not _E164.fullmatch(number):
        raise InvalidFieldError(name, f"'{number}' is not a phone number in E.164 form")
    return number

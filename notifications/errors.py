"""The errors of the notifications package. Bad input names the field it came from; a failed
send says whether trying again later can help, which is all the outbox worker needs to know
(it owns the retries, the backoff and the dead letters)."""

from __future__ import annotations

from datetime import datetime


class NotificationError(Exception):
    """Base of every error raised by this package."""


class InvalidFieldError(NotificationError, ValueError):
    """A value from outside (a form, a webhook, a setting) that cannot be used."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def require_aware(moment: datetime, field: str) -> datetime:
    """`moment` itself, if it carries a time zone; the service stores UTC and shows UK time,
    so a naive time is a bug upstream and is refused naming `field`."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidFieldError(field, "a time zone is required (store UTC, show UK time)")
    return moment


class WebhookSignatureError(NotificationError):
    """A webhook whose X-Twilio-Signature is missing or does not match: answer 403 and
    change nothing."""


class SendError(NotificationError):
    """A message the provider did not accept. `retryable` tells the outbox whether to try
    again later; `provider_code` is the provider's own code (Twilio error, SMTP reply code)."""

    retryable: bool = False

    def __init__(self, message: str, *, provider_code: int | None = None,
                 http_status: int | None = None) -> None:
        super().__init__(message)
        self.provider_code = provider_code
        self.http_status = http_status


class RetryableSendError(SendError):
    """Worth trying again later: rate limit, provider or network trouble.

    `outcome_unknown` is True when the request may have reached the provider before the
    failure (a read timeout, a dropped connection after sending): a retry can then deliver a
    second copy. This is the one window the outbox cannot close, since Twilio has no
    idempotency key; it should count such retries."""

    retryable = True

    def __init__(self, message: str, *, provider_code: int | None = None,
                 http_status: int | None = None, outcome_unknown: bool = False) -> None:
        super().__init__(message, provider_code=provider_code, http_status=http_status)
        self.outcome_unknown = outcome_unknown


class PermanentSendError(SendError):
    """Trying again cannot help: a bad or opted-out number, a refused address, bad
    credentials. `opted_out` is True when the recipient replied STOP (Twilio 21610)."""

    retryable = False

    def __init__(self, message: str, *, provider_code: int | None = None,
                 http_status: int | None = None, opted_out: bool = False) -> None:
        super().__init__(message, provider_code=provider_code, http_status=http_status)
        self.opted_out = opted_out

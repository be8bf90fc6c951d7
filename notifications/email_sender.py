"""Building and sending one email over SMTP (`smtplib`): plain text and HTML alternatives and,
for an invite, the calendar both as a `text/calendar; method=...` alternative (what mail
clients show as an invitation) and as an `appointment.ics` attachment, as Google Calendar
sends them. The `method=` parameter is the METHOD the content's file was written with
(`EmailContent.calendar_method`), so the two cannot disagree and the file is not parsed
again. One call, one attempt: failures come back as RetryableSendError (4xx replies, network
trouble) or PermanentSendError (5xx replies) for the outbox worker."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum

from notifications.email_content import CALENDAR_FILE_NAME, EmailContent
from notifications.errors import (
    InvalidFieldError,
    PermanentSendError,
    RetryableSendError,
    SendError,
)
from notifications.wording import LONDON


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"
    """Implicit TLS from the first byte (port 465)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    security: SmtpSecurity = SmtpSecurity.NONE
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.host.strip():
            raise InvalidFieldError("host", "is required")
        if not 0 < self.port < 65536:
            raise InvalidFieldError("port", f"{self.port} is not a TCP port")
        if (self.username is None) != (self.password is None):
            raise InvalidFieldError("username", "give both a username and a password, or "
                                                "neither")
        if not 0 < self.timeout_seconds <= 120:
            raise InvalidFieldError("timeout_seconds", "must be above 0 and at most 120")


def build_email(content: EmailContent, *, sender: str, sender_name: str, recipient: str,
                sent_at: datetime | None = None) -> EmailMessage:
    """The MIME message for `content` from `sender` to `recipient`, with a fresh Message-ID
    (read it from message["Message-ID"] to record it) and `sent_at` (default now) as Date."""
    for name, address in (("sender", sender), ("recipient", recipient)):
        if "@" not in address or any(char in address for char in " \r\n<>,"):
            raise InvalidFieldError(name, f"'{address}' is not an email address")
    message = EmailMessage()
    message["From"] = Address(display_name=sender_name, addr_spec=sender)
    message["To"] = recipient
    message["Subject"] = content.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    message["Date"] = format_datetime((sent_at or datetime.now(UTC)).astimezone(LONDON))
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    if content.calendar is not None:
        if content.calendar_method is None:
            raise InvalidFieldError("calendar_method", "an invite needs the METHOD it was "
                                                       "written with")
        message.add_alternative(content.calendar, maintype="text", subtype="calendar",
                                params={"method": content.calendar_method.value,
                                        "charset": "utf-8"})
        message.add_attachment(content.calendar, maintype="application", subtype="ics",
                               filename=CALENDAR_FILE_NAME)
    return message


class SmtpEmailSender:
    """Sends each message over a new SMTP connection (the outbox sends few, and a fresh
    connection has no state left from a failure)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> str:
        """Send `message`; returns its Message-ID. Raises RetryableSendError or
        PermanentSendError."""
        try:
            with self._connect() as smtp:
                if self.settings.username is not None:
                    smtp.login(self.settings.username, self.settings.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            raise _reply_error("the recipient was refused", code, reply) from error
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                smtplib.SMTPAuthenticationError, smtplib.SMTPHeloError) as error:
            raise _reply_error("the SMTP server refused the message", error.smtp_code,
                               error.smtp_error) from error
        except smtplib.SMTPNotSupportedError as error:
            raise PermanentSendError(f"the SMTP server lacks a needed feature: {error}") \
                from error
        except smtplib.SMTPConnectError as error:
            raise RetryableSendError(f"the SMTP server would not talk: {error}",
                                     provider_code=error.smtp_code) from error
        except ConnectionRefusedError as error:
            raise RetryableSendError(f"no SMTP server at {self._where()}: {error}") from error
        except (smtplib.SMTPException, OSError) as error:
            raise RetryableSendError(f"sending to {self._where()} failed: {error}",
                                     outcome_unknown=True) from error
        return str(message["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.security is SmtpSecurity.TLS:
            return smtplib.SMTP_SSL(settings.host, settings.port,
                                    timeout=settings.timeout_seconds,
                                    context=ssl.create_default_context())
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
        if settings.security is SmtpSecurity.STARTTLS:
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"


def _reply_error(what: str, code: int, reply: bytes | str) -> SendError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    message = f"{what} ({code} {text})"
    if 400 <= code < 500:
        return RetryableSendError(message, provider_code=code)
    return PermanentSendError(message, provider_code=code)

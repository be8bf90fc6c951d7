"""The senders the outbox uses, made from the settings: Twilio's client (its API base URL a
setting: the demo and tests point it at the fake) and SMTP. A channel whose provider is not
configured is not claimed: its messages wait in the outbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from booking_api.core.config import Settings
from notifications.email_sender import SmtpEmailSender, SmtpSecurity, SmtpSettings
from notifications.notice import ServiceDetails
from notifications.sms_sender import TwilioSettings, TwilioSmsSender

STATUS_CALLBACK_PATH = "/api/webhooks/twilio/status"
INBOUND_PATH = "/api/webhooks/twilio/inbound"


@dataclass(frozen=True)
class Providers:
    service: ServiceDetails
    sms: TwilioSmsSender | None
    email: SmtpEmailSender | None

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(name for name, sender in (("sms", self.sms), ("email", self.email))
                         if sender is not None)


def service_details(settings: Settings) -> ServiceDetails:
    return ServiceDetails(portal_url=settings.public_base_url, phone=settings.service_phone,
                          email_from=settings.email_from)


def providers_from_settings(settings: Settings) -> Providers:
    return Providers(service=service_details(settings), sms=_sms(settings),
                     email=_email(settings))


def twilio_settings(settings: Settings) -> TwilioSettings | None:
    if not settings.twilio_account_sid:
        return None
    return TwilioSettings(
        account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token or "",
        from_number=settings.twilio_from_number,
        messaging_service_sid=settings.twilio_messaging_service_sid,
        api_base_url=settings.twilio_api_base_url,
        status_callback_url=(settings.public_base_url + STATUS_CALLBACK_PATH
                             if settings.twilio_status_callbacks else None),
        timeout_seconds=settings.twilio_timeout_seconds)


def _sms(settings: Settings) -> TwilioSmsSender | None:
    configured = twilio_settings(settings)
    if configured is None:
        return None
    # The client logs every request and its headers at INFO: too much for a worker's log.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    return TwilioSmsSender(configured, fictional_numbers=settings.sms_fictional_numbers)


def _email(settings: Settings) -> SmtpEmailSender | None:
    if not settings.smtp_host:
        return None
    return SmtpEmailSender(SmtpSettings(
        host=settings.smtp_host, port=settings.smtp_port,
        security=SmtpSecurity(settings.smtp_security), username=settings.smtp_username,
        password=settings.smtp_password))

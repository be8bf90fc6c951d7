"""Messages about a patient's access rather than an appointment: many failed sign-ins with
their booking reference. Like every text, the SMS names no examination; the email adds
nothing personal either (it may be read by whoever sees the inbox)."""

from __future__ import annotations

from notifications.email_content import EmailContent, render_email
from notifications.events import MessageEvent
from notifications.notice import ServiceDetails
from notifications.rendering import render
from notifications.wording import gsm7_text

EVENT = MessageEvent.SIGN_IN_THROTTLED


def sign_in_throttled_sms(service: ServiceDetails) -> str:
    values = {"sms_name": service.sms_name, "portal_url": service.portal_url,
              "phone": service.phone}
    return gsm7_text(" ".join(render(f"sms/{EVENT.value}.txt.j2", values).split()))


def sign_in_throttled_email(service: ServiceDetails, patient_name: str) -> EmailContent:
    return render_email(EVENT, {"service_name": service.name, "phone": service.phone,
                                "portal_url": service.portal_url,
                                "patient_name": patient_name})


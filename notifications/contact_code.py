"""The one-time code that checks a new mobile number or email address is the patient's. It
names no examination and nothing personal: whoever holds the phone or inbox may read it."""

from __future__ import annotations

from notifications.email_content import EmailContent, render_email
from notifications.events import MessageEvent
from notifications.notice import ServiceDetails
from notifications.rendering import render
from notifications.wording import gsm7_text

EVENT = MessageEvent.CONTACT_CODE
CODE_MINUTES = 10
"""How long a code works: long enough to find the phone, short enough that a lost one soon
stops mattering."""


def contact_code_sms(service: ServiceDetails, code: str, minutes: int) -> str:
    values = {"sms_name": service.sms_name, "code": code, "minutes": minutes,
              "phone": service.phone}
    return gsm7_text(" ".join(render(f"sms/{EVENT.value}.txt.j2", values).split()))


def contact_code_email(service: ServiceDetails, code: str, minutes: int) -> EmailContent:
    return render_email(EVENT, {"service_name": service.name, "phone": service.phone,
                                "portal_url": service.portal_url, "code": code,
                                "patient_name": None, "minutes": minutes})

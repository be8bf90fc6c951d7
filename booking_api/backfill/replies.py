"""A patient's text answering an offer: BOOK (or ACCEPT) takes the number's latest offer, NO
(or DECLINE) says no; any other text is left to the outbox's replies. The words are none of
Twilio's keywords (YES would be read as an opt-in). The same SMS twice books once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import col

from booking_api.backfill.flows import accept_offer, decline_offer
from booking_api.backfill.models import BackfillOffer
from booking_api.backfill.policy import OfferPolicy
from booking_api.core.db import Database
from booking_api.patients.models import Patient
from notifications.offer_content import ACCEPT_WORDS, DECLINE_WORDS
from notifications.webhooks import InboundSms
from notifications.wording import gsm7_text

RECENT = timedelta(hours=24)
_WORD = re.compile(r"[A-Z]+")


def answer_offer_reply(db: Database, message: InboundSms, now: datetime,
                       policy: OfferPolicy, sms_name: str = "NHS West Midlands") -> str | None:
    """The answer to text back, or None when the text is not about an offer."""
    words = _WORD.findall(message.body.upper())
    if not words or words[0] not in ACCEPT_WORDS | DECLINE_WORDS:
        return None
    with db.reading() as session:
        offer_id = session.scalar(
            select(BackfillOffer.id)
            .join(Patient, Patient.id == BackfillOffer.patient_id)
            .where(Patient.phone == message.from_number,
                   col(BackfillOffer.sent_at) > now - RECENT)
            .order_by(col(BackfillOffer.sent_at).desc(), col(BackfillOffer.id).desc())
            .limit(1))
    if offer_id is None:
        return None
    if words[0] in ACCEPT_WORDS:
        answer = accept_offer(db, offer_id, channel="sms", now=now)
    else:
        answer = decline_offer(db, offer_id, channel="sms", now=now, policy=policy)
    return gsm7_text(f"{sms_name}: {answer.message}")

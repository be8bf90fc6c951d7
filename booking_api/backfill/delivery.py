"""Sending offer messages with the outbox's machinery: rows claimed with the same leases
(`jobs.leases`), the same senders (`outbox.providers`), retried with backoff and ending
dead after the policy's attempts. An offer is checked again as it goes: a text for an offer
no longer open is skipped (its patient would be asked to book what has gone). A text tried
before is looked for in Twilio's record first, so it is never sent twice."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update

from booking_api.backfill.links import offer_link
from booking_api.backfill.models import (
    BackfillOffer,
    FreedSlot,
    OfferMessage,
    OfferMessageKind,
    OfferState,
)
from booking_api.backfill.waves import contact_channels
from booking_api.core.clock import Clock
from booking_api.core.db import Database
from booking_api.jobs.backoff import RetryPolicy
from booking_api.jobs.leases import claim_due
from booking_api.network.models import Site
from booking_api.outbox.providers import Providers
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from domain.exams import exam_catalogue
from notifications.email_sender import build_email
from notifications.errors import InvalidFieldError, PermanentSendError, RetryableSendError
from notifications.offer_content import (
    OfferNotice,
    gone_email,
    gone_sms,
    offer_email,
    offer_sms,
)
from notifications.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfferSender:
    db: Database
    providers: Providers
    clock: Clock
    secret: str
    owner: str
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(
        base=timedelta(seconds=5), max_attempts=8))
    lease: timedelta = timedelta(seconds=60)
    quiet_hours: QuietHours = DEFAULT_QUIET_HOURS
    rng: random.Random = field(default_factory=random.Random)

    def claim(self, limit: int) -> list[int]:
        channels = sorted(self.providers.channels)
        if not channels:
            return []
        with self.db.transaction() as session:
            rows = claim_due(session, OfferMessage, ready="pending", leased="sending",
                             owner=self.owner, now=self.clock(), lease=self.lease,
                             limit=limit,
                             where=[OfferMessage.__table__.c.channel.in_(channels)])
        return [row.id for row in rows]

    def deliver(self, message_id: int) -> str:
        """Send one claimed message if it still applies; its fate. Its facts (message, offer,
        patient, slot, site, request) are read in one joined query."""
        now = self.clock()
        with self.db.reading() as session:
            message, offer, patient, freed, site, request = session.execute(
                select(OfferMessage, BackfillOffer, Patient, FreedSlot, Site, Request)
                .join(BackfillOffer, BackfillOffer.id == OfferMessage.offer_id)
                .join(Patient, Patient.id == BackfillOffer.patient_id)
                .join(FreedSlot, FreedSlot.id == BackfillOffer.freed_slot_id)
                .join(Site, Site.site_id == FreedSlot.site_id)
                .join(Request, Request.id == BackfillOffer.request_id)
                .where(OfferMessage.id == message_id)).one()
            stale = _stale(message, offer, patient, now)
            notice = None if stale else _notice(offer, freed, site, request, self.providers,
                                                self.secret)
            attempts = message.attempts
            created = message.created_at
        if stale:
            return self._finish(message_id, "skipped", stale)
        if message.channel == "sms" and self.quiet_hours.is_quiet(now):
            self._update(message_id, state="pending", run_at=self.quiet_hours
                         .earliest_send_time(now), attempts=attempts - 1)
            return "pending"
        try:
            provider_id, to = self._send(message, patient, notice, attempts, created)
        except RetryableSendError as error:
            if self.retry.gives_up_after(attempts):
                return self._finish(message_id, "dead", str(error))
            self._update(message_id, state="pending", last_error=str(error)[:2000],
                         run_at=now + self.retry.delay(attempts, self.rng))
            return "pending"
        except (PermanentSendError, InvalidFieldError) as error:
            return self._finish(message_id, "dead", str(error))
        self._update(message_id, state="sent", provider_id=provider_id, sent_to=to,
                     sent_at=self.clock(), lease_until=None, last_error=None)
        return "sent"

    def _send(self, message: OfferMessage, patient: Patient, notice: OfferNotice,
              attempts: int, created: datetime) -> tuple[str, str]:
        service = self.providers.service
        offer = message.kind is OfferMessageKind.OFFER
        if message.channel == "sms":
            sender = self.providers.sms
            assert sender is not None and patient.phone
            body = (offer_sms if offer else gone_sms)(notice, service)
            if attempts > 1:
                earlier = sender.find_sent(patient.phone, (body,), created)
                if earlier is not None:
                    return earlier.sid, earlier.to
            receipt = sender.send(patient.phone, body)
            return receipt.sid, receipt.to
        assert self.providers.email is not None and patient.email
        content = (offer_email if offer else gone_email)(notice, service)
        email = build_email(content, sender=service.email_from, sender_name=service.name,
                            recipient=patient.email, sent_at=self.clock())
        domain = service.email_from.rpartition("@")[2]
        email.replace_header("Message-ID", f"<offer-{message.id}@{domain}>")
        return self.providers.email.send(email), patient.email

    def _finish(self, message_id: int, state: str, why: str) -> str:
        self._update(message_id, state=state, last_error=why[:2000], lease_until=None)
        return state

    def _update(self, message_id: int, **values) -> None:
        with self.db.transaction() as session:
            session.execute(update(OfferMessage).where(OfferMessage.id == message_id)
                            .values(updated_at=self.clock(), **values))


def _stale(message: OfferMessage, offer: BackfillOffer, patient: Patient,
           now: datetime) -> str | None:
    if message.channel not in contact_channels(patient):
        return f"the patient no longer takes {message.channel} messages"
    if message.kind is OfferMessageKind.OFFER and (
            offer.state is not OfferState.OFFERED or offer.expires_at is None
            or offer.expires_at <= now):
        return f"the offer is {offer.state.value} now"
    return None


def _notice(offer: BackfillOffer, freed: FreedSlot, site: Site, request: Request,
            providers: Providers, secret: str) -> OfferNotice:
    exam = exam_catalogue().get(request.exam_code)
    return OfferNotice(start=freed.start_at, site=site.name,
                       exam=exam.name if exam else "examination",
                       expires_at=offer.expires_at or freed.start_at,
                       link=offer_link(providers.service.portal_url, secret, offer.id or 0))

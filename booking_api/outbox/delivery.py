"""Sending the outbox: claim due messages (leased, `jobs.leases`), check each still applies
and compose it (`composing`), send it once, and record what happened.

The order matters for "nothing lost, nothing twice": the provider's id (Twilio's SID, the
email's Message-ID) is recorded in the same statement that marks the row sent, right after
the provider accepted it, with a few retries if the database is briefly away. A message
whose attempt ended without an answer (a timeout, a worker killed mid-request, the database
gone before the SID was recorded) is claimed again once its lease lapses; before a text is
sent again, Twilio's record is searched for it (`TwilioSmsSender.find_sent`), so a text the
provider already took is recorded, not sent twice. An email cannot be looked up (SMTP has no
such query: RFC 1047's duplicate window); it is sent again with the same Message-ID, which
mail systems use to drop the second copy. That is the one window left.

Failures: the provider's "try later" (rate limit, outage, relay down) retries with
exponential backoff and jitter; "never" (a refused number, an opted-out patient) and
`max_attempts` failures end as a dead letter (an opted-out patient: skipped, and the opt-out
recorded). Quiet hours push a text to 08:00 without counting an attempt."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, case, func, update
from sqlalchemy.exc import DBAPIError

from booking_api.audit.services import Actor, record_audit
from booking_api.core.channel import Channel
from booking_api.core.clock import Clock
from booking_api.core.db import Database
from booking_api.jobs.backoff import RetryPolicy
from booking_api.jobs.leases import claim_due
from booking_api.outbox.composing import (
    Composed,
    Later,
    Recipient,
    Stale,
    compose,
    message_facts,
    texts_it_may_have_sent,
)
from booking_api.outbox.models import (
    OUTCOME_UNKNOWN,
    MessageChannel,
    MessageStatus,
    OutboxMessage,
)
from booking_api.outbox.providers import Providers
from booking_api.patients.models import Patient
from notifications.contact_code import CODE_MINUTES, contact_code_email, contact_code_sms
from notifications.email_content import email_content
from notifications.email_sender import build_email
from notifications.errors import InvalidFieldError, PermanentSendError, RetryableSendError
from notifications.events import MessageEvent
from notifications.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours
from notifications.security_notice import sign_in_throttled_email, sign_in_throttled_sms
from notifications.sms_content import sms_text

RECORD_RETRIES = (0.2, 1.0, 3.0)
WORKER = Actor("system:outbox", Channel.SYSTEM)
logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    channel: MessageChannel
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True)
class Outbox:
    """Everything delivery needs: the database, the senders, the clock and the rules."""

    db: Database
    providers: Providers
    clock: Clock
    retry: RetryPolicy
    lease: timedelta
    owner: str
    quiet_hours: QuietHours = DEFAULT_QUIET_HOURS
    rng: random.Random = field(default_factory=random.Random)

    def claim(self, limit: int) -> list[ClaimedMessage]:
        """Lease up to `limit` due messages of the channels we can send (one transaction)."""
        channels = sorted(self.providers.channels)
        if not channels:
            return []
        columns = OutboxMessage.__table__.c
        now = self.clock()
        with self.db.transaction() as session:
            rows = claim_due(session, OutboxMessage, ready=MessageStatus.PENDING,
                             leased=MessageStatus.SENDING, owner=self.owner, now=now,
                             lease=self.lease, limit=limit,
                             where=[columns.channel.in_(channels)],
                             # a new attempt checks now; a row whose last attempt may have
                             # gone (its worker died, or no answer came) keeps that
                             # attempt's check time until this one checks
                             also={"checked_at": case(
                                 ((columns.state == MessageStatus.PENDING)
                                  & ~func.coalesce(columns.last_error, "").startswith(
                                      OUTCOME_UNKNOWN), now),
                                 else_=columns.checked_at)})
        return [ClaimedMessage(row.id, MessageChannel(row.channel), row.attempts,
                               row.last_error, row.created_at) for row in rows]

    def deliver(self, claimed: ClaimedMessage) -> MessageStatus:
        """Send one claimed message if it still applies; record and return its fate."""
        checked_at = self.clock()
        with self.db.reading() as session:
            facts = message_facts(session, claimed.id)  # held: composing reads no more rows
            outcome = compose(session, facts.message, checked_at)
            earlier = (texts_it_may_have_sent(session, facts.message, self.providers.service)
                       if _may_have_been_sent(claimed) else ((), None))
        try:
            if self._already_sent(claimed, *earlier, checked_at):
                return MessageStatus.SENT
        except RetryableSendError as error:
            return self._retry(claimed, checked_at, error)
        if isinstance(outcome, Stale):
            return self._finish(claimed, MessageStatus.SKIPPED, checked_at, outcome.reason)
        if isinstance(outcome, Later):
            return self._defer(claimed, checked_at + outcome.after)
        if claimed.channel is MessageChannel.SMS and self.quiet_hours.is_quiet(checked_at) \
                and outcome.event is not MessageEvent.CONTACT_CODE:  # asked for on the page
            return self._defer(claimed, self.quiet_hours.earliest_send_time(checked_at))
        try:
            provider_id, to = self._send(claimed, outcome, checked_at)
        except RetryableSendError as error:
            return self._retry(claimed, checked_at, error)
        except PermanentSendError as error:
            if error.opted_out:
                self._record_opt_out(claimed)
                return self._finish(claimed, MessageStatus.SKIPPED, checked_at,
                                    f"the patient has opted out of texts: {error}")
            return self._finish(claimed, MessageStatus.DEAD, checked_at, str(error))
        except InvalidFieldError as error:
            return self._finish(claimed, MessageStatus.DEAD, checked_at, str(error))
        except Exception as error:  # a bug or something unforeseen: retry, then dead
            logger.exception("sending failed unexpectedly", extra={"message_id": claimed.id})
            return self._retry(claimed, checked_at, RetryableSendError(repr(error)))
        self._record_sent(claimed, provider_id, to, checked_at)
        return MessageStatus.SENT

    # --- sending ---------------------------------------------------------------------------

    def _already_sent(self, claimed: ClaimedMessage, texts: tuple[str, ...],
                      recipient: Recipient | None, checked_at: datetime) -> bool:
        """Whether an earlier attempt's text reached Twilio (then it is recorded as sent,
        even if the message has stopped applying since: it went)."""
        if not texts or recipient is None or self.providers.sms is None:
            return False
        earlier = self.providers.sms.find_sent(recipient.phone or "", texts,
                                               claimed.created_at)
        if earlier is None:
            return False
        logger.info("an unanswered attempt had reached Twilio: recorded, not sent again",
                    extra={"message_id": claimed.id})
        self._record_sent(claimed, earlier.sid, earlier.to, None)  # checked when it went
        return True

    def _send(self, claimed: ClaimedMessage, composed: Composed, now: datetime
              ) -> tuple[str, str]:
        service = self.providers.service
        notice = composed.notice
        if claimed.channel is MessageChannel.SMS:
            sender = self.providers.sms
            assert sender is not None and composed.recipient.phone
            body = (sms_text(composed.event, notice, service) if notice is not None
                    else contact_code_sms(service, composed.code, CODE_MINUTES)
                    if composed.code is not None else sign_in_throttled_sms(service))
            receipt = sender.send(composed.recipient.phone, body)
            return receipt.sid, receipt.to
        sender_email = self.providers.email
        assert sender_email is not None and composed.recipient.email
        content = (email_content(composed.event, notice, service, composed.recipient.email,
                                 stamp=now) if notice is not None
                   else contact_code_email(service, composed.code, CODE_MINUTES)
                   if composed.code is not None
                   else sign_in_throttled_email(service, composed.recipient.name))
        message = build_email(content, sender=service.email_from, sender_name=service.name,
                              recipient=composed.recipient.email, sent_at=now)
        message.replace_header("Message-ID", stable_message_id(claimed.id, service.email_from))
        return sender_email.send(message), composed.recipient.email

    # --- recording -------------------------------------------------------------------------

    def _record_sent(self, claimed: ClaimedMessage, provider_id: str, to: str,
                     checked_at: datetime | None) -> None:
        values = {"message_id": claimed.id, "new_state": MessageStatus.SENT,
                  "provider": provider_id, "at": self.clock(), "recipient": to,
                  "checked": checked_at}
        _with_retries(lambda: self._execute(_MARK_SENT, values))

    def _finish(self, claimed: ClaimedMessage, state: MessageStatus, checked_at: datetime,
                why: str) -> MessageStatus:
        self._update_mine(claimed, {"new_state": state, "next_run": None, "error": why[:2000],
                                    "checked": checked_at})
        return state

    def _retry(self, claimed: ClaimedMessage, checked_at: datetime,
               error: RetryableSendError) -> MessageStatus:
        why = (OUTCOME_UNKNOWN if error.outcome_unknown else "") + str(error)
        if self.retry.gives_up_after(claimed.attempts):
            return self._finish(claimed, MessageStatus.DEAD, checked_at,
                                f"gave up after {claimed.attempts} attempts: {why}")
        next_run = self.clock() + self.retry.delay(claimed.attempts, self.rng)
        self._update_mine(claimed, {"new_state": MessageStatus.PENDING, "next_run": next_run,
                                    "error": why[:2000], "checked": checked_at})
        return MessageStatus.PENDING

    def _defer(self, claimed: ClaimedMessage, until: datetime) -> MessageStatus:
        """Back to pending until `until`, the attempt not counted (quiet hours)."""
        self._execute(_DEFER, {"message_id": claimed.id, "owner": self.owner,
                               "next_run": until, "stamp": self.clock()})
        return MessageStatus.PENDING

    def _update_mine(self, claimed: ClaimedMessage, values: dict[str, Any]) -> None:
        """Record an outcome if the row is still ours (not taken over after a lapsed lease)."""
        values = {"message_id": claimed.id, "owner": self.owner, "stamp": self.clock(),
                  **values}
        statement = _FAIL if values["next_run"] is None else _RESCHEDULE
        _with_retries(lambda: self._execute(statement, values))

    def _record_opt_out(self, claimed: ClaimedMessage) -> None:
        with self.db.transaction() as session:
            row = session.get(OutboxMessage, claimed.id)
            patient = session.get(Patient, row.patient_id) if row is not None else None
            if patient is not None and not patient.sms_opt_out:
                patient.sms_opt_out = True
                session.add(patient)
                record_audit(session, WORKER, "patient.sms_opt_out", "patient",
                             patient.id or 0, before={"sms_opt_out": False},
                             after={"sms_opt_out": True},
                             reason="Twilio refused a text: the number replied STOP")

    def _execute(self, statement: Any, values: dict[str, Any]) -> None:
        with self.db.transaction() as session:
            session.connection().execute(statement, values)


def stable_message_id(message_id: int, sender: str) -> str:
    """The Message-ID of an outbox email: the same on every attempt, so a second copy sent
    after an unanswered attempt is recognised by mail systems as the same message."""
    return f"<outbox-{message_id}@{sender.rpartition('@')[2]}>"


def _may_have_been_sent(claimed: ClaimedMessage) -> bool:
    """A text tried before: the last attempt may have ended without an answer (its worker
    died, so no outcome was recorded, or the connection failed after Twilio took it). An
    earlier attempt's error says nothing about the last one's, so every retry looks."""
    return claimed.channel is MessageChannel.SMS and claimed.attempts > 1


def _with_retries(work: Callable[[], T]) -> T:
    """Run `work`, again after a pause if the database connection failed (a restart)."""
    for pause in RECORD_RETRIES:
        try:
            return work()
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            logger.warning("database connection lost while recording; trying again",
                           extra={"event": "outbox_record_retry"})
            time.sleep(pause)
    return work()


_THIS = OutboxMessage.id == bindparam("message_id")
_MINE = (_THIS & (OutboxMessage.leased_by == bindparam("owner"))
         & (OutboxMessage.state == MessageStatus.SENDING))
_MARK_SENT = update(OutboxMessage).where(_THIS).values(
    state=bindparam("new_state"), provider_id=bindparam("provider"), sent_at=bindparam("at"),
    sent_to=bindparam("recipient"),
    checked_at=func.coalesce(bindparam("checked"), OutboxMessage.checked_at), lease_until=None,
    last_error=None, updated_at=bindparam("at"))
_FAIL = update(OutboxMessage).where(_MINE).values(
    state=bindparam("new_state"), last_error=bindparam("error"),
    checked_at=bindparam("checked"), lease_until=None, updated_at=bindparam("stamp"))
_RESCHEDULE = _FAIL.values(run_at=bindparam("next_run"))
_DEFER = update(OutboxMessage).where(_MINE).values(
    state=MessageStatus.PENDING, run_at=bindparam("next_run"), lease_until=None,
    attempts=OutboxMessage.attempts - 1, updated_at=bindparam("stamp"))

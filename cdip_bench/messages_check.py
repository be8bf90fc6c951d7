"""The offline check after a messages run: the outbox's rows against what the providers
actually received (the fake Twilio's record and the SMTP catcher's), independent of what the
outbox believes about itself.

- lost: a message that had to reach the patient and did not (a booking-type message for an
  appointment still booked at the end; a cancellation whose booking was told on the channel);
- duplicated: copies beyond the first that reached a provider (texts matched to their row by
  the recorded SID, then by recipient and text; emails by their Message-ID, stable per row);
- sent_for_cancelled: a booking-type message that reached a provider although its
  appointment's cancellation had committed before the send's last check (a cancellation
  landing during the ~0.2 s a send is in flight cannot unsend it, and is not counted);
- unrecorded: messages a provider took that the outbox does not know it sent (a row not
  marked sent, or a text no row's SID names and that duplicates none): the window of a
  send whose answer was lost, for emails (SMTP cannot be asked afterwards)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from booking_api.appointments.models import Appointment
from booking_api.core.db import Database
from booking_api.outbox.composing import ABOUT_A_BOOKING, CANCELLATIONS
from booking_api.outbox.delivery import stable_message_id
from booking_api.outbox.models import MessageChannel, MessageStatus, OutboxMessage
from domain.lifecycle import AppointmentState
from notifications.events import MessageEvent


@dataclass(frozen=True)
class Received:
    """One message as a provider received it."""

    key: str
    """SMS: recipient and text; email: Message-ID."""
    provider_id: str
    at: float
    """time.time() of receipt."""


def check_outbox(db: Database, texts: Sequence[Received], emails: Sequence[Received],
                 cancelled_at: dict[int, float], until: datetime, email_from: str,
                 appointments: set[int] | None = None) -> dict[str, Any]:
    """Figures for every message due by `until` (letters aside), of `appointments` only if
    given; `email_from` is the sender whose domain the Message-IDs carry."""
    with db.reading() as session:
        rows = [row for row in session.scalars(select(OutboxMessage).where(
            OutboxMessage.due_at <= until, OutboxMessage.channel != MessageChannel.LETTER)
            .order_by(OutboxMessage.id))
            if appointments is None or row.appointment_id in appointments]
        states = dict(session.execute(select(Appointment.id, Appointment.state)).all())
    sms_by_sid = {text.provider_id: text for text in texts}
    copies = Counter(text.key for text in texts) + Counter(email.key for email in emails)
    first_at = {}
    for received in sorted([*texts, *emails], key=lambda r: r.at):
        first_at.setdefault(received.key, received.at)

    def key_of(row: OutboxMessage) -> str | None:
        if row.channel is MessageChannel.EMAIL:
            return stable_message_id(row.id or 0, email_from)
        text = sms_by_sid.get(row.provider_id or "")
        return text.key if text is not None else None

    keys = {row.id: key_of(row) for row in rows}
    told = {(row.appointment_id, row.channel) for row in rows
            if row.event == MessageEvent.BOOKED and copies.get(keys[row.id] or "", 0)}
    figures = Counter()
    latencies = []
    problems = []
    for row in rows:
        key = keys[row.id]
        n = copies.get(key, 0) if key else 0
        event = MessageEvent(row.event)
        booked_at_end = states.get(row.appointment_id) is AppointmentState.BOOKED
        must = (event in ABOUT_A_BOOKING and booked_at_end) or (
            event in CANCELLATIONS and (row.appointment_id, row.channel) in told)
        before = dict(figures)
        figures["due"] += 1
        figures["delivered"] += n > 0
        figures["lost"] += must and n == 0
        figures["duplicated"] += max(0, n - 1)
        figures[f"duplicated_{row.channel.value}"] += max(0, n - 1)
        figures["dead"] += row.state is MessageStatus.DEAD
        figures["still_queued"] += row.state in (MessageStatus.PENDING, MessageStatus.SENDING)
        figures["skipped"] += row.state is MessageStatus.SKIPPED
        cancelled = cancelled_at.get(row.appointment_id)
        if n and row.state is not MessageStatus.SENT:
            figures["unrecorded"] += 1
            figures[f"unrecorded_{row.channel.value}"] += 1
        elif (n and event in ABOUT_A_BOOKING and cancelled is not None
                and row.checked_at is not None and cancelled < row.checked_at.timestamp()):
            figures["sent_for_cancelled"] += 1
        if n:
            latencies.append((first_at[key] - row.created_at.timestamp()) * 1000)
        wrong = [name for name in ("lost", "duplicated", "sent_for_cancelled", "unrecorded")
                 if figures[name] != before.get(name, 0)]
        if wrong:
            problems.append({"message": row.id, "appointment": row.appointment_id,
                             "event": row.event, "channel": row.channel.value,
                             "state": row.state.value, "copies": n, "wrong": wrong,
                             "attempts": row.attempts, "last_error": row.last_error,
                             "cancelled": cancelled is not None})
    matched = {keys[row.id] for row in rows if keys[row.id]}
    orphans = sum(1 for text in texts if text.key not in matched)
    figures["unrecorded"] += orphans
    figures["unrecorded_sms"] += orphans
    result = {name: int(figures[name]) for name in (
        "due", "delivered", "lost", "duplicated", "duplicated_sms", "duplicated_email",
        "sent_for_cancelled", "unrecorded", "unrecorded_sms", "unrecorded_email", "dead",
        "still_queued", "skipped")}
    result["p95_enqueue_to_send_ms"] = (round(float(np.percentile(latencies, 95)), 1)
                                        if latencies else None)
    result["problems"] = problems[:20]
    result["first_enqueued"] = min((row.created_at.timestamp() for row in rows), default=None)
    result["last_received"] = max((first_at[keys[row.id]] for row in rows
                                   if keys[row.id] in first_at), default=None)
    return result

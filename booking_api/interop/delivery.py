"""Sending outbound status messages: claim due rows with a lease (PostgreSQL `FOR UPDATE SKIP
LOCKED`; SQLite's one writer), send each by its subscriber's protocol, record the outcome.
A failure is tried again after an exponential backoff with jitter, and a row is dead only
after `max_attempts` (or at once when the receiver refuses it for good: HTTP 4xx): dead rows
stay for staff to look at and resend, never deleted. Rows go out in order per subscriber and
request: one waits while an earlier one of the pair is unsent. A worker that dies mid-send
leaves its lease to lapse, and the row is sent again: receivers deduplicate by MSH-10 or the
event id (at-least-once, like every outbox).

`claim_outbound` and `send_claimed` are the pair a job runner drains (`jobs.runner.Drainer`
once the job runner is on main); `OutboundWorker` is a small thread loop over them."""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import and_, bindparam, exists, func, select, update
from sqlalchemy.orm import aliased

from booking_api.core.columns import utc_now
from booking_api.core.db import Database
from booking_api.interop.hl7.mllp import MllpClient, split_endpoint
from booking_api.interop.models import OutboundMessage, OutboundState, Protocol, Subscriber
from booking_api.interop.status_out import render

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-CDIP-Signature"


@dataclass(frozen=True)
class DeliveryPolicy:
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 25
    base_delay_s: float = 2.0
    max_delay_s: float = 300.0
    timeout_s: float = 10.0

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff with full jitter (AWS's), capped."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempts - 1))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


@dataclass(frozen=True)
class Claimed:
    id: int
    attempts: int
    protocol: Protocol
    endpoint: str
    secret: str | None
    receiver: str
    message_type: str
    control_id: str
    event: str
    stored: str
    """The event and its snapshot (JSON), rendered when sent."""


class Refused(Exception):
    """The receiver refused the message for good (no retry)."""


def claim_outbound(db: Database, owner: str, now: datetime, limit: int,
                   policy: DeliveryPolicy) -> list[Claimed]:
    """Lease up to `limit` due rows to `owner` (one transaction)."""
    row, earlier = OutboundMessage, aliased(OutboundMessage)
    claimable = row.state.in_([OutboundState.PENDING, OutboundState.SENDING])  # type: ignore[attr-defined]
    lapsed = (row.state == OutboundState.PENDING) | (row.lease_until < now)  # type: ignore[operator]
    waiting = exists().where(earlier.subscriber_id == row.subscriber_id,
                             earlier.request_id == row.request_id, earlier.id < row.id,
                             earlier.state.in_([OutboundState.PENDING,  # type: ignore[attr-defined]
                                                OutboundState.SENDING]))
    with db.transaction() as session:
        ids = select(row.id).where(claimable, lapsed, row.run_at <= now, ~waiting) \
            .order_by(row.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            ids = ids.with_for_update(skip_locked=True, of=row)
        chosen = list(session.scalars(ids))
        if not chosen:
            return []
        session.execute(update(OutboundMessage).where(row.id.in_(chosen)).values(  # type: ignore[union-attr]
            state=OutboundState.SENDING, lease_until=now + policy.lease, leased_by=owner,
            attempts=row.attempts + 1, updated_at=utc_now()))
        found = session.execute(
            select(row.id, row.attempts, Subscriber.protocol, Subscriber.endpoint,
                   Subscriber.secret, func.coalesce(Subscriber.placer_system, Subscriber.name),
                   row.message_type, row.control_id, row.event, row.body)
            .join(Subscriber, and_(Subscriber.id == row.subscriber_id))
            .where(row.id.in_(chosen)).order_by(row.id))  # type: ignore[union-attr]
        return [Claimed(*item) for item in found]


def send_claimed(db: Database, item: Claimed, clock: Callable[[], datetime],
                 policy: DeliveryPolicy, client: httpx.Client | None = None) -> OutboundState:
    """Send one claimed row and record what became of it."""
    try:
        response = send(item, policy, client)
    except Refused as refused:
        return _record(db, item, OutboundState.DEAD, clock(), str(refused))
    except Exception as error:  # any other failure: try again later, or give up
        logger.info("status message not sent", extra={"event": "interop_send_failed",
                                                       "outbound_id": item.id,
                                                       "attempts": item.attempts,
                                                       "why": repr(error)[:200]})
        state = OutboundState.DEAD if item.attempts >= policy.max_attempts else \
            OutboundState.PENDING
        return _record(db, item, state, clock() + policy.delay(item.attempts),
                       repr(error)[:2000])
    return _record(db, item, OutboundState.SENT, clock(), None, response)


def send(item: Claimed, policy: DeliveryPolicy, client: httpx.Client | None = None) -> str:
    """Render and deliver by protocol; the receiver's answer (an ACK, an HTTP status)."""
    body = render(item.protocol, item.receiver, item.stored, item.control_id, utc_now())
    if item.protocol is Protocol.HL7V2:
        host, port = split_endpoint(item.endpoint)
        with MllpClient(host, port, policy.timeout_s) as mllp:
            ack = mllp.send(body)
        code = _msa_code(ack)
        if code not in ("AA", "CA"):
            raise ConnectionError(f"the receiver answered {code or 'no MSA'}: {ack[:200]}")
        return ack[:2000]
    url, headers = item.endpoint, {"Content-Type": "application/json"}
    if item.protocol is Protocol.FHIR:
        url = f"{item.endpoint.rstrip('/')}/{item.message_type}"
        headers["Content-Type"] = "application/fhir+json"
    else:
        headers[SIGNATURE_HEADER] = "sha256=" + sign(item.secret or "", body)
        headers["X-CDIP-Event"] = item.event
        headers["X-CDIP-Event-Id"] = item.control_id
    own = client is None
    http = client or httpx.Client(timeout=policy.timeout_s)
    try:
        answer = http.post(url, content=body.encode(), headers=headers)
    finally:
        if own:
            http.close()
    if 200 <= answer.status_code < 300:
        return f"HTTP {answer.status_code}"
    if 400 <= answer.status_code < 500 and answer.status_code not in (408, 409, 425, 429):
        raise Refused(f"HTTP {answer.status_code}: {answer.text[:500]}")
    raise ConnectionError(f"HTTP {answer.status_code}")


def sign(secret: str, body: str) -> str:
    """HMAC-SHA256 of the body, hex: what a webhook receiver recomputes with its secret."""
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def _msa_code(ack: str) -> str:
    for line in ack.split("\r"):
        if line.startswith("MSA|"):
            return line.split("|")[1]
    return ""


def _record(db: Database, item: Claimed, state: OutboundState, run_at: datetime,
            error: str | None, response: str | None = None) -> OutboundState:
    values: dict[str, Any] = {"state": state, "lease_until": None, "leased_by": None,
                              "last_error": error, "updated_at": utc_now()}
    if state is OutboundState.SENT:
        values |= {"sent_at": run_at, "response": response}
    else:
        values["run_at"] = run_at
    with db.transaction() as session:
        session.execute(update(OutboundMessage).where(
            OutboundMessage.id == bindparam("row_id"),
            OutboundMessage.attempts == item.attempts).values(**values),
            {"row_id": item.id})  # a row re-claimed after its lease lapsed is the new owner's
    return state


class OutboundWorker:
    """Drains the outbound rows in a thread until stopped (the embedded runner until the job
    runner of issue 14 takes it over as a Drainer)."""

    def __init__(self, db: Database, clock: Callable[[], datetime],
                 policy: DeliveryPolicy | None = None, owner: str = "interop-worker",
                 batch: int = 20, idle_s: float = 0.2) -> None:
        self.db, self.clock, self.policy = db, clock, policy or DeliveryPolicy()
        self.owner, self.batch, self.idle_s = owner, batch, idle_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=owner)

    def start(self) -> OutboundWorker:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def drain_once(self) -> int:
        """Claim and send one batch; how many were claimed."""
        items = claim_outbound(self.db, self.owner, self.clock(), self.batch, self.policy)
        with httpx.Client(timeout=self.policy.timeout_s) as client:
            for item in items:
                send_claimed(self.db, item, self.clock, self.policy, client)
        return len(items)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.drain_once() == 0:
                    self._stop.wait(self.idle_s)
            except Exception:
                logger.exception("outbound drain failed", extra={"event": "interop_drain"})
                self._stop.wait(1.0)

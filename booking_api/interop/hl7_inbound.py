"""One HL7 v2 message in, one ACK out, whatever carried it (MLLP or HTTP). A message is
acted on once: its sender and control id (MSH-10) are stored with the ACK in the transaction
of its effects (its last statement), so a resend gets the same ACK and changes nothing, even
when two copies race (the unique keys decide; the loser rolls back and answers with the
winner's ACK). A refused message changes
nothing; its NAK is stored too, so a resend is answered alike. A failure of ours (AR 207) is
not stored: the sender's retry is processed afresh. A message holding characters no field
may (NUL, control characters: `core.inputs`) is refused before anything is stored, naming
the segment and field."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache

from sqlalchemy import Insert, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import Database
from booking_api.core.inputs import text_problem
from booking_api.interop.hl7.acks import UNKNOWN_HEADER, build_ack
from booking_api.interop.hl7.order_messages import (
    Header,
    message_digest,
    normalise_er7,
    read_header,
    read_order,
)
from booking_api.interop.hl7.problems import (
    APPLICATION_ERROR,
    DATA_TYPE_ERROR,
    DUPLICATE_KEY,
    HL7Problem,
    Location,
)
from booking_api.interop.models import AckCode, InboundMessage, OrderSource
from booking_api.interop.orders import OrderRefused, act_on_order

logger = logging.getLogger(__name__)
ControlIds = Callable[[], str]


def handle_hl7(db: Database, text: str, now: datetime, control_ids: ControlIds) -> str:
    """The ACK for one message (ER7), after acting on it at most once."""
    er7 = normalise_er7(text)
    unreadable = _unreadable(er7)
    if unreadable is not None:
        header = (UNKNOWN_HEADER if unreadable.location.segment == "MSH"
                  else _header_or_unknown(er7))
        return build_ack(header, unreadable.ack_code, control_ids(), now, unreadable)
    try:
        header = read_header(er7)
    except HL7Problem as problem:
        return build_ack(_header_or_unknown(er7), problem.ack_code, control_ids(), now, problem)
    try:
        return _handle(db, er7, header, now, control_ids)
    except Exception as error:
        logger.exception("HL7 message failed", extra={"event": "hl7_failed",
                                                      "control_id": header.control_id})
        problem = HL7Problem(Location("MSH"), APPLICATION_ERROR,
                             f"the message could not be processed now ({type(error).__name__});"
                             " send it again", AckCode.REJECT)
        return build_ack(header, AckCode.REJECT, control_ids(), now, problem)


def _unreadable(er7: str) -> HL7Problem | None:
    """The refusal (AR, data type error) naming the first segment and field whose text holds
    a character no field may (segments are split on CR first), or None."""
    for segment in er7.split("\r"):
        for number, field in enumerate(segment.split("|")):
            problem = text_problem(field, multiline=False)
            if problem is not None:
                name = segment[:3]
                if name == "MSH" or text_problem(name, multiline=False) is not None:
                    return HL7Problem(Location("MSH", number + 1 if name == "MSH" else 0),
                                      DATA_TYPE_ERROR, f"a field {problem}", AckCode.REJECT)
                return HL7Problem(Location(name, number), DATA_TYPE_ERROR,
                                  f"the field {problem}", AckCode.REJECT)
    return None


def _handle(db: Database, er7: str, header: Header, now: datetime,
            control_ids: ControlIds) -> str:
    digest = message_digest(er7)
    try:
        with db.transaction() as session:
            return _act(session, er7, header, digest, now, control_ids)
    except _SeenBefore:
        return _replay(_stored(db, header), header, digest, now, control_ids)
    except IntegrityError:
        stored = _stored(db, header)  # a copy of this message won the race
        if stored is None:
            raise
        return _replay(stored, header, digest, now, control_ids)
    except _Refused as refused:
        return _store_refusal(db, header, digest, refused.problem, now, control_ids)


class _SeenBefore(Exception):
    """This sender's control id is stored already: answer with its ACK."""


class _Refused(Exception):
    def __init__(self, problem: HL7Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _act(session: Session, er7: str, header: Header, digest: str, now: datetime,
         control_ids: ControlIds) -> str:
    try:
        order = read_order(er7, header)
        outcome = act_on_order(session, order, OrderSource.HL7,
                               Actor(f"hl7:{header.sending_application}", Channel.HL7), now)
    except HL7Problem as problem:
        raise _Refused(problem) from problem
    except OrderRefused as refused:
        raise _Refused(HL7Problem(refused.location, refused.code, refused.text)) from refused
    ack = build_ack(header, AckCode.ACCEPT, control_ids(), now, text=outcome.note)
    if _claim(session, header, digest, now, ack, outcome.request_id) is None:
        raise _SeenBefore()  # rolls back what this copy did
    return ack


def _claim(session: Session, header: Header, digest: str, now: datetime, ack: str,
           request_id: int | None) -> int | None:
    """Store the sender's control id with the ACK, as the transaction's last statement:
    None when it is stored already. A copy being processed at this moment makes this wait
    (PostgreSQL) until it commits; most copies stop sooner, at the first row both would
    write (the placer order's key, the lock on it), and are answered with the winner's ACK
    (`_handle`). Claimed last, not first, so the ACK needs no UPDATE of its own."""
    connection = session.connection()
    return connection.scalar(_claim_statement(connection.dialect.name), {
        "m_sender": header.sender, "m_control_id": header.control_id,
        "m_type": header.message_type, "m_digest": digest, "m_ack": ack,
        "m_request": request_id, "m_received": now})


@cache
def _claim_statement(dialect: str) -> Insert:
    """Built once per dialect (a statement built per message cost more CPU than its round
    trip)."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(InboundMessage)
    return insert.values(
        sender=bindparam("m_sender"), control_id=bindparam("m_control_id"),
        message_type=bindparam("m_type"), digest=bindparam("m_digest"),
        ack_code=AckCode.ACCEPT, ack=bindparam("m_ack"), request_id=bindparam("m_request"),
        received_at=bindparam("m_received"),
    ).on_conflict_do_nothing(index_elements=["sender", "control_id"]).returning(
        InboundMessage.id)


def _store_refusal(db: Database, header: Header, digest: str, problem: HL7Problem,
                   now: datetime, control_ids: ControlIds) -> str:
    ack = build_ack(header, problem.ack_code, control_ids(), now, problem)
    try:
        with db.transaction() as session:
            session.add(InboundMessage(sender=header.sender, control_id=header.control_id,
                                       message_type=header.message_type, digest=digest,
                                       ack_code=problem.ack_code, ack=ack,
                                       error=str(problem)[:2000], received_at=now))
    except IntegrityError:
        stored = _stored(db, header)
        if stored is not None:
            return _replay(stored, header, digest, now, control_ids)
    return ack


def _stored(db: Database, header: Header) -> InboundMessage | None:
    """The stored message of this sender and control id, if any."""
    with db.reading() as session:
        return session.scalars(select(InboundMessage).where(
            InboundMessage.sender == header.sender,
            InboundMessage.control_id == header.control_id)).first()


def _replay(stored: InboundMessage | None, header: Header, digest: str, now: datetime,
            control_ids: ControlIds) -> str:
    if stored is None:  # stored by a copy whose transaction then rolled back: try again
        raise RuntimeError("the message's earlier copy was not kept; send it again")
    if stored.digest != digest:
        problem = HL7Problem(Location("MSH", 10), DUPLICATE_KEY,
                             f"control id {header.control_id} was already used for a different "
                             "message; give each message its own", AckCode.REJECT)
        return build_ack(header, AckCode.REJECT, control_ids(), now, problem)
    return stored.ack


def _header_or_unknown(er7: str) -> Header:
    """Enough of a broken message's MSH to address the NAK, when there is one."""
    if not er7.startswith("MSH|"):
        return UNKNOWN_HEADER
    fields = er7.split("\r", 1)[0].split("|") + [""] * 12
    return Header(fields[2], fields[3], fields[4], fields[5], fields[9],
                  "^".join(fields[8].split("^")[:2]), fields[8], "2.5.1", fields[10] or "P")

"""Tables of the interfaces with referrers' systems: orders in (each HL7 message once, placer
orders and the requests they became, the order-code map, the clerk's queue of held orders),
the modality worklist data assigned at booking, and status out (subscribers and the
outbound messages written in the transaction of the change they tell of)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from booking_api.core.columns import JSONDocument, code_enum, utc_now

CODE = 40


class AckCode(StrEnum):
    ACCEPT = "AA"
    ERROR = "AE"
    """The message was understood but its content is wrong (a field at fault)."""
    REJECT = "AR"
    """The message could not be processed at all (unparseable, wrong type or version)."""


class InboundMessage(SQLModel, table=True):
    """Every HL7 v2 message received, keyed by its sender and control id (MSH-10): a resend
    is answered with the stored ACK and processed no second time."""

    __tablename__ = "hl7_inbound_message"
    __table_args__ = (UniqueConstraint("sender", "control_id"),)

    id: int | None = Field(default=None, primary_key=True)
    sender: str = Field(max_length=200, description="MSH-3^MSH-4: application^facility")
    control_id: str = Field(max_length=200, description="MSH-10")
    message_type: str = Field(max_length=20, description="e.g. ORM^O01")
    digest: str = Field(max_length=64, description="SHA-256 of the message as received")
    ack_code: AckCode = Field(sa_type=code_enum(AckCode))
    ack: str = Field(sa_column=Column(Text, nullable=False))
    error: str | None = Field(default=None, max_length=2000)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    received_at: datetime = Field(default_factory=utc_now)


class OrderSource(StrEnum):
    HL7 = "hl7"
    FHIR = "fhir"


class PlacerOrder(SQLModel, table=True):
    """An order as its placer knows it (ORC-2 / ServiceRequest.identifier) and the request it
    became: how a cancel or change finds the request, and who to tell of its status."""

    __tablename__ = "placer_order"
    __table_args__ = (UniqueConstraint("placer_system", "placer_order_number"),)

    id: int | None = Field(default=None, primary_key=True)
    placer_system: str = Field(max_length=200, description="MSH-3 or the FHIR client")
    placer_order_number: str = Field(max_length=200)
    source: OrderSource = Field(sa_type=code_enum(OrderSource))
    request_id: int | None = Field(default=None, foreign_key="request.id", unique=True,
                                   description="null while the order is held for a clerk")
    cancelled: bool = False
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class OrderCodeMap(SQLModel, table=True):
    """An order code (NICIP, SNOMED CT or a placer's local code) and the exam it means."""

    __tablename__ = "order_code_map"

    code_system: str = Field(primary_key=True, max_length=CODE,
                             description="NICIP, SNOMED, or a placer's system name")
    code: str = Field(primary_key=True, max_length=CODE)
    exam_code: str = Field(foreign_key="exam_type.code", max_length=CODE)
    display: str | None = Field(default=None, max_length=200)


class HeldOrderState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISCARDED = "discarded"
    """Cancelled by its placer while held, or judged a duplicate by a clerk."""


class HeldOrder(SQLModel, table=True):
    """The clerk's queue: an order that could not become a request by itself (the patient
    needs a person to decide, or its code maps to no exam). Never dropped: it stays open
    until a clerk resolves it or its placer cancels it."""

    __tablename__ = "held_order"
    __table_args__ = (
        Index("ix_held_order_open", "created_at", sqlite_where=text("state = 'open'"),
              postgresql_where=text("state = 'open'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    placer_order_id: int = Field(foreign_key="placer_order.id", unique=True)
    needs_patient: bool = Field(description="the patient match needs a clerk")
    needs_exam: bool = Field(description="the order code maps to no exam")
    reason: str = Field(max_length=2000)
    candidates: list[int] = Field(default_factory=list, sa_type=JSONDocument)
    order_data: dict[str, Any] = Field(sa_type=JSONDocument, description="the order as received")
    state: HeldOrderState = Field(default=HeldOrderState.OPEN,
                                  sa_type=code_enum(HeldOrderState))
    resolved_by: str | None = Field(default=None, max_length=100)
    resolved_at: datetime | None = None
    resolution: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utc_now)


class WorklistEntry(SQLModel, table=True):
    """What a modality worklist needs of a booked request (IHE Scheduled Workflow), assigned
    when it is first booked; the accession number and study UID stay with the request when
    it is rescheduled, the scheduled step follows the appointment."""

    __tablename__ = "worklist_entry"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", unique=True)
    appointment_id: int = Field(foreign_key="appointment.id", index=True)
    accession_number: str = Field(max_length=16, unique=True)
    requested_procedure_id: str = Field(max_length=16)
    scheduled_step_id: str = Field(max_length=16)
    study_instance_uid: str = Field(max_length=64, unique=True)
    modality: str = Field(max_length=2)
    station_ae_title: str = Field(max_length=16, description="the room's AE title")
    scheduled_start: datetime
    updated_at: datetime = Field(default_factory=utc_now)


class Protocol(StrEnum):
    HL7V2 = "hl7v2"
    """SIU and ORR over MLLP to `host:port`."""
    FHIR = "fhir"
    """Task (status of the ServiceRequest) and Appointment, POSTed as JSON to a base URL."""
    WEBHOOK = "webhook"
    """A JSON event POSTed to a URL, signed with HMAC-SHA256 of the body."""


class SubscriberScope(StrEnum):
    OWN_ORDERS = "own_orders"
    """Status of the orders this system placed (its `placer_system`)."""
    ALL = "all"
    """Every request's status and every booking (a RIS, a worklist broker)."""


class Subscriber(SQLModel, table=True):
    __tablename__ = "interop_subscriber"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    protocol: Protocol = Field(sa_type=code_enum(Protocol))
    endpoint: str = Field(max_length=500)
    secret: str | None = Field(default=None, max_length=200,
                               description="the webhook's HMAC key")
    scope: SubscriberScope = Field(sa_type=code_enum(SubscriberScope))
    placer_system: str | None = Field(default=None, max_length=200, index=True)
    active: bool = True
    created_at: datetime = Field(default_factory=utc_now)


class OutboundState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    """Refused for good or failed too often: staff look at it and resend it."""


CLAIMABLE_OUTBOUND_SQL = "state IN ('pending', 'sending')"


class OutboundMessage(SQLModel, table=True):
    """One message to one subscriber, its content fixed when the change committed (rendered
    when sent). Sent in order per subscriber and request: a row waits while an earlier one
    of the pair is unsent."""

    __tablename__ = "interop_outbound"
    __table_args__ = (
        Index("ix_interop_outbound_claimable", "run_at",
              sqlite_where=text(CLAIMABLE_OUTBOUND_SQL),
              postgresql_where=text(CLAIMABLE_OUTBOUND_SQL)),
        Index("ix_interop_outbound_subscriber_id_request_id", "subscriber_id", "request_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    subscriber_id: int = Field(foreign_key="interop_subscriber.id")
    request_id: int = Field(foreign_key="request.id")
    appointment_id: int | None = Field(default=None, foreign_key="appointment.id")
    event: str = Field(max_length=40, description="e.g. request.appointed, appointment.booked")
    message_type: str = Field(max_length=40, description="SIU^S12, ORR^O02, Task, webhook")
    control_id: str = Field(max_length=40, description="MSH-10, or the event id")
    body: str = Field(sa_column=Column(Text, nullable=False),
                      description="the event and its snapshot at commit (JSON), rendered in "
                                  "the subscriber's protocol when sent")
    state: OutboundState = Field(default=OutboundState.PENDING,
                                 sa_type=code_enum(OutboundState), index=True)
    run_at: datetime
    attempts: int = 0
    lease_until: datetime | None = None
    leased_by: str | None = Field(default=None, max_length=120)
    last_error: str | None = Field(default=None, max_length=2000)
    response: str | None = Field(default=None, max_length=2000)
    sent_at: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class SettingsStamp(SQLModel, table=True):
    """One row whose stamp the database itself rewrites (triggers: `settings_stamp`) in every
    transaction that changes what orders and status out look up for each message: the
    order-code map, the exam catalogue and the subscribers. A process keeps copies of those
    and uses them only while the stamp it reads, within a statement it makes anyway, is the
    one they were read with (`settings_cache`)."""

    __tablename__ = "interop_settings_stamp"

    id: int = Field(default=1, primary_key=True)
    stamp: int = Field(sa_type=BigInteger)

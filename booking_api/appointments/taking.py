"""Taking a slot: the one way any path (portal, clerk, reschedule, backfill, FHIR) occupies
diary time. Nothing else inserts an active appointment.

Locking discipline (after pretix): read and judge everything that does not depend on who else
is booking first, unlocked; then lock once, as late as possible, right before the
availability check: the patient row, the request row and the run of slots the exam needs, in
one statement (PostgreSQL `SELECT ... FOR NO KEY UPDATE`, rows locked in that order; on
SQLite the transaction already holds the database's single write lock from BEGIN IMMEDIATE).
Under the lock: expire stale holds on that time or of that patient, check nothing active
overlaps the time in the room, nor any of the patient's live appointments (overlapping, or
too close for the journey between sites: `domain.travel`) unless a clerk gave an
`overlap_reason`, insert, mark the slots. The patient's lock makes two bookings of one
patient at two sites take turns, so the second sees the first. Before the lock, a first slot
already booked or closed when read is refused at once, so under contention most losers never
queue for the lock.
The database has the last word: a partial unique index on the first slot, and on PostgreSQL
exclusion constraints on the room's time range and on the patient's (overlap only: the
travel allowance varies by pair of sites, so it is the check's); a violation (23505, 23P01,
SQLite's IntegrityError) or a deadlock becomes our own `SlotTaken` (`PatientBusy` for the
patient's constraint), and the caller's transaction rolls back whole. Other row locks (an
appointment being changed, and the slots it frees) are taken before this one, so locks are
always taken in the order appointment, its slots, patient, request, slots.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, NamedTuple

from sqlalchemy import Row, and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from booking_api.appointments.changes import (
    AppointmentChange,
    FreedBy,
    note_appointment_change,
    note_slot_freed,
)
from booking_api.appointments.models import ACTIVE_STATES, NO_OVERLAP_FOR_A_PATIENT, Appointment
from booking_api.audit.services import Actor, record_audit
from booking_api.core.channel import Channel
from booking_api.core.columns import utc_now
from booking_api.core.db import CONFLICT_SQLSTATES
from booking_api.core.errors import (
    NotFound,
    PatientBusy,
    PatientClash,
    RequestNotBookable,
    SlotTaken,
    SlotUnavailable,
)
from booking_api.network.models import Room, Site
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from booking_api.slots.eligibility import (
    check_slot_eligible,
    load_request_and_slot,
    slot_request_for,
)
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, RequestState, SlotStatus
from domain.travel import Place, clashes, travel_allowance
from slot_rules.overrides import Override

SLOT_STATUS_OF = {AppointmentState.HELD: SlotStatus.BUSY_TENTATIVE,
                  AppointmentState.BOOKED: SlotStatus.BUSY}
HOLD_EXPIRED = "hold expired"
SITES_OF_MARKED_SLOTS = "cdip_sites_of_marked_slots"
"""`session.info` key: slot id → site id of every slot marked in this session, so the answer
can name the appointment's site without reading its slot again."""


@dataclass(frozen=True)
class Claim:
    """What to take: a request, its first slot, and how (held until a time, or booked)."""

    request_id: int
    slot_id: int
    state: AppointmentState
    held_until: datetime | None = None
    overrides: tuple[Override, ...] = ()
    replacing: int | None = None
    """An appointment of the same request being moved away from (reschedule): it may stay
    active until the caller releases it in the same transaction."""
    patient_id: int | None = None
    """When a patient acts: the request must be theirs (else NotFound)."""
    overlap_reason: str | None = None
    """A clerk's reason to book the patient anyway when this time clashes with another of
    their appointments (audited; kept on the appointment only if there was a clash)."""


class Taken(NamedTuple):
    """The new appointment and its (locked) request."""

    appointment: Appointment
    request: Request


def take_slot(session: Session, actor: Actor, claim: Claim, now: datetime) -> Taken:
    """Occupy the claim's slot (and the slots its exam runs on into) for its request; raise
    SlotTaken, SlotUnavailable, SlotNotEligible or RequestNotBookable, changing nothing."""
    facts, (first, room, site) = load_request_and_slot(session, claim.request_id,
                                                       claim.slot_id, claim.patient_id)
    _refuse_early(first)
    slots = slot_run(session, first, facts.exam.duration_min)
    _check_not_started(first, now)
    check_slot_eligible(slot_request_for(facts, now), slots, room, site, now, claim.overrides)
    request = facts.request
    _lock(session, request, slots)
    overridden = _check_available(session, request, slots, Place(site.site_id, site.lat,
                                                                  site.lon), claim, now)
    appointment = _insert_appointment(session, {
        "request_id": request.id, "slot_id": slots[0].id, "patient_id": request.patient_id,
        "channel": actor.channel, "state": claim.state, "room_id": slots[0].room_id,
        "start_at": slots[0].start_at, "end_at": slots[-1].end_at,
        "held_until": claim.held_until, "hold_extended": False,
        "booked_at": now if claim.state is AppointmentState.BOOKED else None,
        "cancelled_at": None, "cancel_reason": None, "created_at": now,
        "updated_at": utc_now(), "overlap_reason": claim.overlap_reason if overridden else None},
        slots, SLOT_STATUS_OF[claim.state])
    if overridden:
        record_audit(session, actor, "appointment.overlap_overridden", "appointment",
                     appointment.id or 0, after={
                         "patient_id": request.patient_id,
                         "clashes_with": [clash.appointment_id for clash in overridden]},
                     reason=claim.overlap_reason)
    return Taken(appointment, request)


def _insert_appointment(session: Session, values: dict[str, Any], slots: Sequence[Slot],
                        status: SlotStatus) -> Appointment:
    """Insert the row and mark its slots `status` (Core statements: the hot path of every
    booking; one statement on PostgreSQL), turning the database's refusal of a second
    occupant into SlotTaken. The returned object is in the session as if loaded, so later
    changes to it are flushed as usual."""
    marking = _marking(slots, status)
    try:
        if session.new or session.dirty or session.deleted:
            session.flush()  # stale holds just expired must leave the slot first
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            new_id = connection.execute(_INSERT_APPOINTMENT_MARKING_SLOTS, marking | {
                f"{_NEW}{column}": value for column, value in values.items()}).scalar_one()
        else:
            new_id = connection.execute(_INSERT_APPOINTMENT, values).scalar_one()
            connection.execute(_MARK_SLOTS, marking)
    except (IntegrityError, DBAPIError) as error:
        if _is_conflict(error):
            raise conflict_refusal(error) from error
        raise
    _note_marked(session, slots, marking)
    appointment = Appointment(id=new_id, **values)
    make_transient_to_detached(appointment)
    session.add(appointment)
    return appointment


def slots_of(session: Session, appointment: Appointment, lock: bool = False) -> list[Slot]:
    """The run of slots an appointment occupies (its first slot to its end)."""
    first = session.get(Slot, appointment.slot_id)
    if first is None:
        return []
    end = appointment.end_at or first.end_at
    query = (select(Slot).where(Slot.session_id == first.session_id,
                                col(Slot.start_at) >= first.start_at, col(Slot.start_at) < end)
             .order_by(Slot.id))
    if lock:
        query = query.with_for_update()
    return list(session.scalars(query))


def mark_slots(session: Session, slots: Iterable[Slot], status: SlotStatus) -> None:
    """Set the FHIR status of slots, bumping their version and change stamp (the wall clock:
    the search index reads changes by it, whatever `now` the operation was given). One Core
    update; the loaded slots are updated to match without being marked changed."""
    slots = list(slots)
    if not slots:
        return
    marking = _marking(slots, status)
    session.connection().execute(_MARK_SLOTS, marking)
    _note_marked(session, slots, marking)


def _marking(slots: Sequence[Slot], status: SlotStatus) -> dict[str, Any]:
    """The parameters of `_MARK_SLOTS` (named so as to match no column of slot or
    appointment: SQLAlchemy would add such a key to an UPDATE's SET or an INSERT's VALUES)."""
    return {"slot_ids": [slot.id for slot in slots], "new_status": status,
            "stamp": utc_now()}


def _note_marked(session: Session, slots: Sequence[Slot], marking: dict[str, Any]) -> None:
    """The loaded slots as the database now has them, and their sites for the answer."""
    sites = session.info.setdefault(SITES_OF_MARKED_SLOTS, {})
    for slot in slots:
        sites[slot.id] = slot.site_id
        set_committed_value(slot, "status", marking["new_status"])
        set_committed_value(slot, "version", slot.version + 1)
        set_committed_value(slot, "changed_at", marking["stamp"])


def release(session: Session, appointment: Appointment) -> None:
    """Free the slots of an appointment that has just stopped being active."""
    appointment.updated_at = utc_now()
    mark_slots(session, slots_of(session, appointment), SlotStatus.FREE)


def expire_hold(session: Session, actor: Actor, hold: Appointment, now: datetime) -> None:
    """Turn one stale hold into a cancelled appointment and free its slots (one audit event).
    A hold someone else made for the patient (a clerk, an offer) is noted for the outbox; a
    patient's own hold in the portal lapses silently."""
    before = {"state": hold.state.value, "held_until": _iso(hold.held_until)}
    hold.state = AppointmentState.CANCELLED
    hold.cancelled_at = now
    hold.cancel_reason = HOLD_EXPIRED
    session.add(hold)
    release(session, hold)
    record_audit(session, actor, "appointment.hold_expired", "appointment", hold.id or 0,
                 before=before, after={"state": hold.state.value}, reason=HOLD_EXPIRED)
    if hold.channel is not Channel.PORTAL:
        note_appointment_change(session, AppointmentChange.HOLD_EXPIRED, hold, now)
    if hold.start_at is not None:
        note_slot_freed(session, hold.slot_id, hold.start_at, now, FreedBy.HOLD_LAPSED, hold.id)


def is_stale_hold(appointment: Appointment | Row[Any], now: datetime) -> bool:
    return (appointment.state is AppointmentState.HELD and appointment.held_until is not None
            and appointment.held_until <= now)


def slot_run(session: Session, first: Slot, duration_min: int) -> list[Slot]:
    """The first slot and the consecutive slots of its session that the exam runs on into."""
    length = max(1, int((first.end_at - first.start_at).total_seconds() // 60))
    needed = math.ceil(duration_min / length)
    run = [first]
    if needed > 1:
        run = list(session.scalars(
            select(Slot).where(Slot.session_id == first.session_id,
                               col(Slot.start_at) >= first.start_at)
            .order_by(Slot.start_at).limit(needed)))
    covered = sum((s.end_at - s.start_at for s in run), timedelta())
    contiguous = all(a.end_at == b.start_at for a, b in pairwise(run))
    if not contiguous or covered < timedelta(minutes=duration_min):
        raise SlotUnavailable(f"the exam takes {duration_min} minutes and the session has only "
                              f"{int(covered.total_seconds() // 60)} consecutive minutes from "
                              "this slot")
    return run


def _refuse_early(first: Slot) -> None:
    """Without waiting for the lock: a slot already booked or closed when read stays refused
    (a hold may have expired, so a tentative slot goes on to the check under the lock)."""
    if first.status is SlotStatus.BUSY:
        raise SlotTaken()
    if first.status in (SlotStatus.BUSY_UNAVAILABLE, SlotStatus.ENTERED_IN_ERROR):
        raise SlotUnavailable(f"slot {first.id} is {_status_words(first.status)}")


def _check_not_started(slot: Slot, now: datetime) -> None:
    if slot.start_at <= now:
        raise SlotUnavailable("that slot has already started; choose a later one")


def _lock(session: Session, request: Request, slots: Sequence[Slot]) -> None:
    """The one lock of the transaction: the request row and the slot rows, in one statement;
    what can have changed since they were read (their states) is brought up to date."""
    rows = session.connection().execute(_LOCK, {
        "request_id": request.id, "slot_ids": [slot.id for slot in slots]}).all()
    if not rows:
        raise NotFound("request", request.id or 0, "request_id")
    set_committed_value(request, "state", RequestState(rows[0].request_state))
    now_locked = {row.slot_id: row for row in rows}
    for slot in slots:
        row = now_locked[slot.id]
        set_committed_value(slot, "status", SlotStatus(row.status))
        set_committed_value(slot, "version", row.version)


def _check_available(session: Session, request: Request, slots: Sequence[Slot], place: Place,
                     claim: Claim, now: datetime) -> tuple[PatientClash, ...]:
    """Under the lock: the request may take a slot, stale holds on it or of the patient
    expire, nothing else occupies the time or the slots, and the patient has no other live
    appointment it clashes with (`domain.travel`). Returns the clashes a clerk's
    `overlap_reason` sets aside; PatientBusy names them when there is no reason."""
    allowed = "appointable" if claim.replacing is None else "appointed"
    if request.state.value != allowed:
        raise RequestNotBookable(f"request {request.id} is {request.state.value}; only "
                                 f"{allowed} requests can take this slot")
    first, last = slots[0], slots[-1]
    active = session.connection().execute(_ACTIVE_OF_PATIENT_OR_ON_TIME, {
        "patient_id": request.patient_id, "room_id": first.room_id,
        "start_at": first.start_at, "end_at": last.end_at}).all()
    found: list[PatientClash] = []
    for other in active:
        if other.id == claim.replacing:
            continue
        if is_stale_hold(other, now):
            stale = session.get(Appointment, other.id)
            assert stale is not None
            expire_hold(session, Actor("system:booking", stale.channel), stale, now)
        elif other.room_id == first.room_id and other.start_at < last.end_at \
                and other.end_at > first.start_at:
            raise SlotTaken()
        elif other.request_id == request.id:
            raise RequestNotBookable(f"request {request.id} already has an active appointment "
                                     f"({other.id}); cancel or reschedule that one instead")
        elif other.patient_id == request.patient_id:
            clash = _clash(other, first.start_at, last.end_at, place)
            if clash is not None:
                found.append(clash)
    for slot in slots:
        if slot.status in (SlotStatus.BUSY_UNAVAILABLE, SlotStatus.ENTERED_IN_ERROR):
            raise SlotUnavailable(f"slot {slot.id} is {_status_words(slot.status)}")
        if slot.status is not SlotStatus.FREE:
            raise SlotTaken()
    if found and not claim.overlap_reason:
        raise PatientBusy(found)
    return tuple(found)


def _clash(other: Row[Any], start: datetime, end: datetime,
           place: Place) -> PatientClash | None:
    """The other appointment as a clash with [start, end) at `place`, or None if the patient
    can attend both. An appointment without a known site counts as next door to none."""
    if other.site_id is None:
        other_place = Place("", place.lat, place.lon)
    else:
        other_place = Place(other.site_id, other.lat, other.lon)
    if not clashes(start, end, place, other.start_at, other.end_at, other_place):
        return None
    travel = travel_allowance(place, other_place)
    return PatientClash(other.id, other.state.value, other.site_id, other.start_at,
                        other.end_at, int(travel.total_seconds() // 60))


# Statements of the hot path, built once with bind parameters (building one costs more than
# running it).
_LOCK = (select(Request.state.label("request_state"), Slot.id.label("slot_id"), Slot.status,
                Slot.version)
         .select_from(Patient)
         .join(Request, Request.patient_id == Patient.id)
         .join(Slot, col(Slot.id).in_(bindparam("slot_ids", expanding=True)))
         .where(Request.id == bindparam("request_id")).order_by(Slot.id)
         .with_for_update(key_share=True))
"""Locks patient, request and slots, in that order (the order of the FROM list). NO KEY
UPDATE, the lock an UPDATE of these rows would take: bookers exclude each other, while rows
merely referring to the patient (a new request, a message) need not wait for the booking."""
_ACTIVE_OF_PATIENT_OR_ON_TIME = (
    select(Appointment.id, Appointment.request_id, Appointment.patient_id, Appointment.state,
           Appointment.held_until, Appointment.room_id, Appointment.start_at,
           Appointment.end_at, Room.site_id, Site.lat, Site.lon)
    .outerjoin(Room, Room.room_id == Appointment.room_id)
    .outerjoin(Site, Site.site_id == Room.site_id)
    .where(col(Appointment.state).in_(ACTIVE_STATES),
           or_(Appointment.patient_id == bindparam("patient_id"),
               and_(Appointment.room_id == bindparam("room_id"),
                    col(Appointment.start_at) < bindparam("end_at"),
                    col(Appointment.end_at) > bindparam("start_at")))))
"""The patient's live appointments (few: the request's own among them) with their sites,
and whatever is live on the room's time."""
_INSERT_APPOINTMENT = insert(Appointment).returning(Appointment.id)
_MARK_SLOTS = (update(Slot).where(col(Slot.id).in_(bindparam("slot_ids", expanding=True)))
               .values(status=bindparam("new_status"), version=Slot.version + 1,
                       changed_at=bindparam("stamp")))
_NEW = "new_"
"""Prefix of the new appointment's parameters in the combined statement below: none of them
then names a column, so SQLAlchemy adds none to the slot UPDATE's SET clause."""
_INSERT_APPOINTMENT_MARKING_SLOTS = (
    insert(Appointment)
    .values({column.name: bindparam(f"{_NEW}{column.name}", type_=column.type)
             for column in Appointment.__table__.columns  # type: ignore[attr-defined]
             if column.name not in ("id", "change_seq")})  # the database stamps change_seq
    .add_cte(_MARK_SLOTS.cte("marked_slots"))
    .returning(Appointment.id))
"""On PostgreSQL the appointment and its slots' new status are one statement (the UPDATE is a
data-modifying CTE, run whether or not the INSERT reads it)."""


def _status_words(status: SlotStatus) -> str:
    return {SlotStatus.BUSY_UNAVAILABLE: "blocked and cannot be booked",
            SlotStatus.ENTERED_IN_ERROR: "withdrawn from the diary"}.get(status, str(status))


def _is_conflict(error: DBAPIError) -> bool:
    state = getattr(error.orig, "sqlstate", None)
    if state is not None:
        return state in CONFLICT_SQLSTATES
    return isinstance(error, IntegrityError)


def conflict_refusal(error: DBAPIError) -> SlotTaken | PatientBusy:
    """The database's refusal of a second occupant as ours: the patient's own exclusion
    constraint as PatientBusy (the clashing appointment is not named: the transaction that
    could look it up is aborted), anything else as SlotTaken."""
    diag = getattr(error.orig, "diag", None)
    if getattr(diag, "constraint_name", None) == NO_OVERLAP_FOR_A_PATIENT:
        return PatientBusy(())
    return SlotTaken()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None

"""The changes staff make from the console, each one transaction of its own over the
`Database`, through the same services and flows as the JSON API (vetting, facts, overrides,
booking by `appointments.taking`, blocking). Refusals are the services' own exceptions;
nothing is written when one is raised. The patient hears of a booking, change or
cancellation through the outbox, written in the same transaction (`appointments.changes`)."""

from __future__ import annotations

from datetime import date, datetime

from booking_api.access.models import AccountRole
from booking_api.appointments import flows as booking
from booking_api.appointments import services as appointments
from booking_api.audit.services import Actor
from booking_api.core.db import Database
from booking_api.core.errors import ChangeRefused, NotPermitted
from booking_api.diary import blocking
from booking_api.requests import flows as requests
from booking_api.requests.rule_facts import parse_fact_value
from domain.lifecycle import AppointmentState
from slot_rules.overrides import OverrideRole

APPOINTABILITY = requests.APPOINTABILITY
OVERRIDE_ROLES = {
    AccountRole.VETTING: (OverrideRole.RADIOLOGIST, OverrideRole.RADIOGRAPHER),
    AccountRole.CLERK: (OverrideRole.CLERK,),
    AccountRole.MANAGER: (OverrideRole.CLERK,),
    AccountRole.ADMIN: (OverrideRole.CLERK,),
}
"""Whose authority a staff account may claim when it sets a rule aside."""


def justify(db: Database, actor: Actor, request_id: int, protocol: requests.VettingProtocol,
            today: date) -> None:
    with db.transaction() as session:
        requests.justify_request(session, request_id, protocol, actor, today)


def reject(db: Database, actor: Actor, request_id: int, reason: str) -> None:
    with db.transaction() as session:
        requests.reject_request(session, request_id, reason, actor)


def record_fact(db: Database, actor: Actor, request_id: int, name: str, text: str,
                today: date) -> None:
    """Record a fact typed as text (FactError names what is wrong with it)."""
    value = parse_fact_value(name, text)
    with db.transaction() as session:
        requests.record_request_fact(session, request_id, name, value, actor, today)


def override_rule(db: Database, actor: Actor, account_role: AccountRole, request_id: int,
                  rule_id: str, role: OverrideRole, reason: str, today: date,
                  ruleset: str = requests.APPOINTABILITY) -> None:
    """Set a rule aside for the request with a reason (an appointability rule, or a slot rule
    for its bookings: `ruleset` "slot_eligibility"); OverrideRefused (naming the rule) for a
    hard stop or a role the rule does not allow, NotPermitted for authority not held."""
    if role not in OVERRIDE_ROLES.get(account_role, ()):
        raise NotPermitted(f"a {account_role} account cannot override as a {role}", "role")
    with db.transaction() as session:
        requests.record_rule_override(session, request_id, rule_id, role, reason, actor,
                                      ruleset, today=today)


def hold_for_patient(db: Database, actor: Actor, request_id: int, slot_id: int,
                     previous_hold: int | None, *, now: datetime, hold_minutes: int) -> int:
    """Hold a time while the clerk confirms it with the patient (the clerk's earlier hold
    for this request, if any, is let go); returns the hold's id."""
    with db.transaction() as session:
        hold = booking.hold_instead(session, actor, request_id, slot_id, previous_hold,
                                    now=now, hold_minutes=hold_minutes)
        assert hold.id is not None
        return hold.id


def book_held_for_patient(db: Database, actor: Actor, hold_id: int, reason: str, *,
                          now: datetime) -> int:
    """Book the held time with the clerk's reason, in one transaction: the hold is let go
    and the same slot booked on the patient's behalf (`book_on_behalf`, the one taking
    path); the patient is told through the outbox. Returns the appointment id."""
    with db.transaction() as session:
        hold = appointments.locked_appointment(session, hold_id, None)
        if hold.state is not AppointmentState.HELD:
            raise ChangeRefused(f"this time is {hold.state.value}, no longer held: choose "
                                "a time again", "appointment_id")
        appointments.cancel_appointment(session, actor, hold_id, "booked for the patient",
                                        now=now)
        booked = booking.book_on_behalf(session, actor, hold.request_id, hold.slot_id,
                                        reason=reason, now=now)
        assert booked.id is not None
        return booked.id


def move_for_patient(db: Database, actor: Actor, appointment_id: int, slot_id: int,
                     reason: str, *, now: datetime) -> int:
    """Move a booking to another time atomically; returns the new appointment's id."""
    with db.transaction() as session:
        moved = booking.reschedule(session, actor, appointment_id, slot_id, reason=reason,
                                   now=now)
        assert moved.id is not None
        return moved.id


def cancel_for_patient(db: Database, actor: Actor, appointment_id: int, reason: str, *,
                       now: datetime) -> None:
    with db.transaction() as session:
        appointments.cancel_appointment(session, actor, appointment_id, reason, now=now)


def let_go_of_hold(db: Database, actor: Actor, hold_id: int, *, now: datetime) -> None:
    """Release a clerk's hold that will not be booked (no message: nothing was booked)."""
    with db.transaction() as session:
        hold = appointments.get_appointment(session, hold_id)
        if hold.state is AppointmentState.HELD:
            appointments.cancel_appointment(session, actor, hold_id, "clerk chose no time",
                                            now=now)


def block(db: Database, actor: Actor, slot_id: int, reason: str, *, now: datetime) -> None:
    with db.transaction() as session:
        blocking.block_slot(session, actor, slot_id, reason, now=now)


def unblock(db: Database, actor: Actor, slot_id: int, reason: str, *, now: datetime) -> None:
    with db.transaction() as session:
        blocking.unblock_slot(session, actor, slot_id, reason, now=now)

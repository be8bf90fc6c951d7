"""Messages are written in the transaction of the change they tell of, on SQLite and
PostgreSQL: one row per message and channel the patient takes, reminders by the schedule, a
move told once as a change, nothing for a rollback or for a patient's own lapsed hold, and
never a second row for the same (appointment, event, channel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from booking_api.appointments import flows, services
from booking_api.appointments.changes import AppointmentChange, note_appointment_change
from booking_api.core.changes import ChangesNotWired, note_change
from booking_api.core.db import make_session_factory
from booking_api.outbox.models import MessageChannel, MessageStatus
from booking_api.patients.models import ContactPreference
from tests.booking_api.booking_world import (
    CLERK,
    NOW,
    booking_engine,
    migrated_engine,
)
from tests.booking_api.outbox_support import Messaging, messaging, set_contact

__all__ = ["booking_engine", "messaging", "migrated_engine"]


def _book(m: Messaging, index: int = 0, slot: int = 0, at: datetime = NOW) -> int:
    with m.db.transaction() as session:
        appointment = services.book_slot(session, CLERK, m.world.requests[index],
                                         m.world.slots["S1-XR1"][slot], now=at)
        return appointment.id


def _keys(m: Messaging) -> list[tuple[str, str]]:
    return sorted((row.event_key, row.channel.value) for row in m.rows())


def test_a_booking_writes_its_confirmation_and_reminders_in_its_own_transaction(
        messaging: Messaging) -> None:
    appointment_id = _book(messaging)

    rows = messaging.rows()
    assert _keys(messaging) == [("booked", "email"), ("booked", "sms"),
                                ("reminder-2d", "email"), ("reminder-2d", "sms")]
    assert {row.appointment_id for row in rows} == {appointment_id}
    assert all(row.state is MessageStatus.PENDING for row in rows)
    booked = next(row for row in rows if row.event_key == "booked")
    assert booked.due_at == NOW
    reminder = next(row for row in rows if row.event_key == "reminder-2d")
    assert reminder.due_at == datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # 10:00 GMT


@pytest.mark.parametrize(("preference", "phone", "email", "opted_out", "channels"), [
    (ContactPreference.SMS, "+447700900555", "a@example.com", False, {"sms"}),
    (ContactPreference.EMAIL, "+447700900555", "a@example.com", False, {"email"}),
    (ContactPreference.BOTH, "+447700900555", None, False, {"sms"}),
    (ContactPreference.BOTH, "+447700900555", "a@example.com", True, {"email"}),
    (ContactPreference.SMS, "+447700900555", None, True, {"letter"}),
    (ContactPreference.NONE, "+447700900555", "a@example.com", False, {"letter"}),
])
def test_channels_follow_the_patients_preference(
        messaging: Messaging, preference: ContactPreference, phone: str | None,
        email: str | None, opted_out: bool, channels: set[str]) -> None:
    set_contact(messaging.world.engine, messaging.world.patients[0], preference,
                phone=phone, email=email, opted_out=opted_out)

    _book(messaging)

    confirmations = {row.channel.value for row in messaging.rows() if row.event == "booked"}
    assert confirmations == channels
    reminders = {row.channel for row in messaging.rows() if row.event == "reminder"}
    assert MessageChannel.LETTER not in reminders  # no reminders by post


def test_a_text_due_in_the_quiet_hours_waits_until_eight_but_its_email_goes_at_once(
        messaging: Messaging) -> None:
    late = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 22:30 GMT

    _book(messaging, at=late)

    booked = {row.channel: row for row in messaging.rows() if row.event == "booked"}
    assert booked[MessageChannel.EMAIL].run_at == late
    assert booked[MessageChannel.SMS].run_at == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_a_move_is_one_change_message_for_the_new_appointment_not_a_cancellation(
        messaging: Messaging) -> None:
    old = _book(messaging)
    with messaging.db.transaction() as session:
        new = flows.reschedule(session, CLERK, old, messaging.world.slots["S1-XR1"][3],
                               reason="patient asked", now=NOW + timedelta(hours=1)).id

    changed = [row for row in messaging.rows() if row.appointment_id == new]
    assert {(row.event, row.channel.value) for row in changed if row.event != "reminder"} == {
        ("changed", "sms"), ("changed", "email")}
    assert all(row.previous_appointment_id == old for row in changed)
    assert not [row for row in messaging.rows() if row.event.startswith("cancelled")]


def test_a_cancelled_booking_writes_a_cancellation_and_a_service_one_apologises(
        messaging: Messaging) -> None:
    first, second = _book(messaging, 0, 0), _book(messaging, 1, 1)
    with messaging.db.transaction() as session:
        services.cancel_appointment(session, CLERK, first, "patient phoned", now=NOW)
        services.cancel_appointment(session, CLERK, second, "scanner broken", now=NOW,
                                    by_service=True)

    events = {(row.appointment_id, row.event) for row in messaging.rows()
              if row.event.startswith("cancelled")}
    assert events == {(first, "cancelled"), (second, "cancelled_by_service")}


def test_a_change_that_rolls_back_writes_no_message(messaging: Messaging) -> None:
    with pytest.raises(RuntimeError), messaging.db.transaction() as session:
        services.book_slot(session, CLERK, messaging.world.requests[0],
                           messaging.world.slots["S1-XR1"][0], now=NOW)
        raise RuntimeError("the caller fails after the booking")

    assert messaging.rows() == []


def test_a_patients_own_lapsed_hold_is_silent_but_a_clerks_is_told(
        messaging: Messaging) -> None:
    world = messaging.world
    with messaging.db.transaction() as session:
        mine = services.hold_slot(session, world.patient_actor(0), world.requests[0],
                                  world.slots["S1-XR1"][0], now=NOW, hold_minutes=10).id
        clerks = services.hold_slot(session, CLERK, world.requests[1],
                                    world.slots["S1-XR1"][1], now=NOW, hold_minutes=10).id
    with messaging.db.transaction() as session:
        services.sweep_expired_holds(session, NOW + timedelta(minutes=11))

    told = {row.appointment_id for row in messaging.rows() if row.event == "hold_expired"}
    assert told == {clerks} and mine not in told


def test_the_same_message_is_never_written_twice(messaging: Messaging) -> None:
    appointment_id = _book(messaging)
    with messaging.db.transaction() as session:
        appointment = services.get_appointment(session, appointment_id)
        note_appointment_change(session, AppointmentChange.BOOKED, appointment, NOW)

    assert len(messaging.rows()) == 4


def test_a_session_without_the_outbox_refuses_to_note_a_change(
        booking_engine: Engine) -> None:
    plain = make_session_factory(booking_engine.execution_options(cdip_session_hooks=()))
    with plain() as session, pytest.raises(ChangesNotWired, match=r"booking_api\.database"):
        note_change(session, "a booking")

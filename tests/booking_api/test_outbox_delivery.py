"""Delivery, through the real twilio client over HTTP to the fake Twilio and smtplib to a
real SMTP server (aiosmtpd), on SQLite and PostgreSQL: each due message reaches its provider
once, with its provider id recorded; nothing goes for a cancelled or moved appointment;
provider faults are retried and end delivered once; a refusal for good becomes a dead letter
that staff can send again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import event, update

from booking_api.appointments import flows, services
from booking_api.outbox import services as outbox_services
from booking_api.outbox.delivery import Outbox
from booking_api.outbox.models import MessageChannel, MessageStatus, OutboxMessage
from booking_api.outbox.providers import providers_from_settings
from booking_api.patients.models import Patient
from fake_providers.twilio_state import FaultKind
from tests.booking_api.booking_world import CLERK, booking_engine, migrated_engine
from tests.booking_api.outbox_support import Messaging, messaging, phone_of

__all__ = ["booking_engine", "messaging", "migrated_engine"]


def _book(m: Messaging, index: int = 0, slot: int = 0) -> int:
    with m.db.transaction() as session:
        return services.book_slot(session, CLERK, m.world.requests[index],
                                  m.world.slots["S1-XR1"][slot], now=m.clock()).id


def _due_now(m: Messaging, event: str) -> dict[MessageChannel, object]:
    return {row.channel: row for row in m.rows() if row.event == event}


def test_a_booking_is_confirmed_by_text_and_by_email_with_its_invite(
        messaging: Messaging) -> None:
    _book(messaging)

    fates = messaging.drain()

    assert fates == [MessageStatus.SENT, MessageStatus.SENT]
    [text] = messaging.texts()
    assert text.to == phone_of(0) and "booked for" in text.body
    [email] = messaging.emails()
    assert email.recipients == ("patient0@example.com",)
    invite = Calendar.from_ical(next(part.get_content() for part in email.message.walk()
                                     if part.get_content_type() == "text/calendar"))
    assert str(invite["method"]) == "REQUEST"
    rows = _due_now(messaging, "booked")
    assert rows[MessageChannel.SMS].provider_id == text.sid
    assert rows[MessageChannel.EMAIL].provider_id == email.message["Message-ID"]


def test_nothing_is_sent_for_an_appointment_cancelled_before_its_message_went(
        messaging: Messaging) -> None:
    appointment_id = _book(messaging)
    with messaging.db.transaction() as session:
        services.cancel_appointment(session, CLERK, appointment_id, "changed mind",
                                    now=messaging.clock())

    messaging.drain()

    assert messaging.texts() == [] and messaging.emails() == []
    assert {row.state for row in messaging.rows() if row.due_at <= messaging.clock()} == {
        MessageStatus.SKIPPED}


def test_a_cancellation_after_the_confirmation_is_sent_with_a_cancelling_invite(
        messaging: Messaging) -> None:
    appointment_id = _book(messaging)
    messaging.drain()
    with messaging.db.transaction() as session:
        services.cancel_appointment(session, CLERK, appointment_id, "changed mind",
                                    now=messaging.clock())

    messaging.drain()

    assert "is cancelled" in messaging.texts()[-1].body
    invite = Calendar.from_ical(next(
        part.get_content() for part in messaging.emails()[-1].message.walk()
        if part.get_content_type() == "text/calendar"))
    assert (str(invite["method"]), invite.events[0]["sequence"]) == ("CANCEL", 1)


def test_a_moved_appointments_reminders_are_not_sent_and_its_change_is(
        messaging: Messaging) -> None:
    old = _book(messaging)
    messaging.drain()
    with messaging.db.transaction() as session:
        new = flows.reschedule(session, CLERK, old, messaging.world.slots["S1-XR1"][3],
                               reason="patient asked", now=messaging.clock()).id
    messaging.drain()
    messaging.clock.now = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)  # the reminders fall due

    messaging.drain()

    by_appointment = {(row.appointment_id, row.event_key): row.state for row in messaging.rows()
                      if row.channel is MessageChannel.SMS}
    assert by_appointment[(old, "reminder-2d")] is MessageStatus.SKIPPED
    assert by_appointment[(new, "changed")] is MessageStatus.SENT
    assert by_appointment[(new, "reminder-2d")] is MessageStatus.SENT
    assert "has changed" in messaging.texts()[1].body


def test_provider_errors_are_retried_with_backoff_and_the_text_goes_once(
        messaging: Messaging) -> None:
    _book(messaging)
    for kind in (FaultKind.SERVER_ERROR, FaultKind.RATE_LIMITED):
        messaging.twilio.state.add_fault(kind, count=1)

    messaging.drain()
    sms = _due_now(messaging, "booked")[MessageChannel.SMS]
    assert sms.state is MessageStatus.PENDING and sms.run_at > messaging.clock()
    for _ in range(2):
        messaging.clock.advance(timedelta(minutes=5))
        messaging.drain()

    assert len(messaging.texts()) == 1
    sms = _due_now(messaging, "booked")[MessageChannel.SMS]
    assert (sms.state, sms.attempts) == (MessageStatus.SENT, 3)


def test_a_text_the_provider_took_before_timing_out_is_recorded_not_sent_again(
        messaging: Messaging) -> None:
    _book(messaging)
    messaging.twilio.state.add_fault(FaultKind.TIMEOUT_AFTER_ACCEPT, count=1, hang_seconds=2)

    messaging.drain(_short_timeout(messaging))  # no answer: outcome unknown
    messaging.clock.advance(timedelta(minutes=5))
    messaging.drain()

    [text] = messaging.texts()
    sms = _due_now(messaging, "booked")[MessageChannel.SMS]
    assert (sms.state, sms.provider_id) == (MessageStatus.SENT, text.sid)


def _short_timeout(m: Messaging) -> Outbox:
    """An outbox whose Twilio client gives up after half a second."""
    impatient = m.settings.model_copy(update={"twilio_timeout_seconds": 0.5})
    return replace(m.outbox(), providers=providers_from_settings(impatient))


def test_an_smtp_relay_that_is_down_is_retried_until_it_takes_the_email(
        messaging: Messaging) -> None:
    _book(messaging)
    messaging.smtp.handler.refuse_next(2, "451 4.3.0 Try again later")

    for _ in range(3):
        messaging.drain()
        messaging.clock.advance(timedelta(minutes=5))

    assert len(messaging.emails()) == 1
    assert _due_now(messaging, "booked")[MessageChannel.EMAIL].attempts == 3


def test_an_opted_out_number_ends_the_text_and_records_the_opt_out(
        messaging: Messaging) -> None:
    _book(messaging)
    messaging.twilio.state.apply_keyword(phone_of(0), "STOP")  # replied STOP to Twilio

    messaging.drain()

    sms = _due_now(messaging, "booked")[MessageChannel.SMS]
    assert sms.state is MessageStatus.SKIPPED and "opted out" in sms.last_error
    with messaging.db.reading() as session:
        assert session.get(Patient, messaging.world.patients[0]).sms_opt_out


def test_too_many_failures_make_a_dead_letter_which_staff_can_send_again(
        messaging: Messaging) -> None:
    _book(messaging)
    messaging.twilio.state.add_fault(FaultKind.UNAVAILABLE, count=4)
    outbox = messaging.outbox(attempts=4)
    for _ in range(4):
        messaging.drain(outbox)
        messaging.clock.advance(timedelta(minutes=5))
    with messaging.db.reading() as session:
        [dead] = outbox_services.dead_letters(session)
    assert dead.channel is MessageChannel.SMS and "gave up after 4 attempts" in dead.last_error

    with messaging.db.transaction() as session:
        outbox_services.resend(session, CLERK, dead.id, messaging.clock())
    messaging.drain(outbox)

    assert len(messaging.texts()) == 1
    assert _due_now(messaging, "booked")[MessageChannel.SMS].state is MessageStatus.SENT


def test_a_text_due_in_the_quiet_hours_is_held_until_eight_without_counting_an_attempt(
        messaging: Messaging) -> None:
    _book(messaging)
    messaging.clock.now = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)  # the send was delayed
    with messaging.db.transaction() as session:  # a retry fell due in the quiet hours
        session.execute(_due_again(messaging.clock.now))

    messaging.drain()

    sms = _due_now(messaging, "booked")[MessageChannel.SMS]
    assert messaging.texts() == []
    assert (sms.state, sms.run_at, sms.attempts) == (
        MessageStatus.PENDING, datetime(2026, 12, 2, 8, 0, tzinfo=UTC), 0)


def _due_again(at: datetime):
    return update(OutboxMessage).values(run_at=at).where(
        OutboxMessage.channel == MessageChannel.SMS, OutboxMessage.event == "booked")


def test_a_cancellation_waits_while_the_bookings_text_has_no_answer_then_goes(
        messaging: Messaging) -> None:
    appointment_id = _book(messaging)
    messaging.twilio.state.add_fault(FaultKind.TIMEOUT_AFTER_ACCEPT, count=1, hang_seconds=2)
    messaging.drain(_short_timeout(messaging))  # the provider took it; no answer came
    with messaging.db.transaction() as session:
        services.cancel_appointment(session, CLERK, appointment_id, "changed mind",
                                    now=messaging.clock())

    messaging.drain()  # the booking's text is still unresolved (backing off)
    cancellation = _due_now(messaging, "cancelled")[MessageChannel.SMS]
    assert (cancellation.state, cancellation.attempts) == (MessageStatus.PENDING, 0)
    for _ in range(2):
        messaging.clock.advance(timedelta(minutes=1))
        messaging.drain()

    bodies = [text.body for text in messaging.texts()]
    assert len(bodies) == 2 and "booked for" in bodies[0] and "is cancelled" in bodies[1]
    assert _due_now(messaging, "booked")[MessageChannel.SMS].state is MessageStatus.SENT


def test_a_confirmation_reads_what_it_says_in_one_round_trip_and_one_count(
        messaging: Messaging) -> None:
    _book(messaging)
    outbox = messaging.outbox()
    text = next(m for m in outbox.claim(10) if m.channel is MessageChannel.SMS)
    statements: list[str] = []

    def note(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(messaging.db.engine, "before_cursor_execute", note)
    try:
        assert outbox.deliver(text) is MessageStatus.SENT
    finally:
        event.remove(messaging.db.engine, "before_cursor_execute", note)

    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # the message with its facts, then the booking's SEQUENCE
    assert len(reads) == 2, [s.split("FROM")[-1][:60] for s in reads]

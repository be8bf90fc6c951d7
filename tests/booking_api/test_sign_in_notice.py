"""The holder of a booking reference is told when failed sign-ins start slowing it down: one
text and one email through the outbox (the real twilio client to the fake Twilio, SMTP to
aiosmtpd), written in the transaction of the failure that starts the delays, once per time
they start, naming neither the reference nor the examination."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from booking_api.access import services
from booking_api.outbox.models import MessageChannel, MessageStatus
from booking_api.requests.models import Request
from tests.booking_api.access_support import TEST_POLICY
from tests.booking_api.booking_world import booking_engine, migrated_engine
from tests.booking_api.outbox_support import Messaging, email_of, messaging, phone_of

__all__ = ["booking_engine", "messaging", "migrated_engine"]
WRONG_BIRTHDAY = date(1999, 1, 1)


def reference_of(m: Messaging, index: int) -> str:
    with m.db.reading() as session:
        return session.scalar(select(Request.booking_reference)
                              .where(Request.id == m.world.requests[index]))


def fail_sign_ins(m: Messaging, reference: str, count: int, first_client: int = 0) -> None:
    for number in range(first_client, first_client + count):
        context = services.SignInContext("test-secret", TEST_POLICY, f"198.51.100.{number}",
                                         m.clock())
        with m.db.transaction() as session:
            assert services.sign_in_patient(session, context, reference,
                                            WRONG_BIRTHDAY) is None


def test_the_patient_is_told_by_text_and_email_when_their_sign_in_is_slowed(
        messaging: Messaging) -> None:
    reference = reference_of(messaging, 0)

    fail_sign_ins(messaging, reference, 9)
    assert messaging.rows() == []
    fail_sign_ins(messaging, reference, 1, first_client=9)
    fates = messaging.drain()

    assert fates == [MessageStatus.SENT, MessageStatus.SENT]
    assert {row.channel for row in messaging.rows()} == {MessageChannel.SMS,
                                                         MessageChannel.EMAIL}
    assert all(row.appointment_id is None for row in messaging.rows())
    [text] = messaging.texts()
    assert text.to == phone_of(0) and "tried many times to sign in" in text.body
    [email] = messaging.emails()
    assert email.recipients == (email_of(0),)
    assert "Several attempts to sign in" in email.subject
    assert email.message.get_content_type() != "text/calendar"
    for sent in (text.body, email.message.as_string()):
        assert reference not in sent and "X-ray" not in sent


def test_further_failures_tell_the_patient_nothing_more(messaging: Messaging) -> None:
    reference = reference_of(messaging, 1)
    fail_sign_ins(messaging, reference, 10)
    for number in range(10, 15):
        messaging.clock.advance(timedelta(seconds=61))
        fail_sign_ins(messaging, reference, 1, first_client=number)

    messaging.drain()

    assert len(messaging.texts()) == 1 and len(messaging.emails()) == 1


def test_only_the_holder_of_the_reference_is_told(messaging: Messaging) -> None:
    fail_sign_ins(messaging, reference_of(messaging, 2), 10)

    messaging.drain()

    assert [text.to for text in messaging.texts()] == [phone_of(2)]

"""A patient's new mobile number or email address is confirmed with a one-time code sent
through the outbox (the real worker, the fake Twilio and the SMTP catcher) before any other
message uses it; bad input names its field and changes nothing; the preference (text,
email, both, letters) needs a confirmed address and decides the channels of later messages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from booking_api.appointments import services
from booking_api.contact.flows import (
    MAX_WRONG_CODES,
    ContactRefused,
    confirm_code,
    contact_details,
    set_preference,
    start_check,
)
from booking_api.outbox.models import MessageChannel, OutboxMessage
from booking_api.patients.models import ContactPreference, Patient
from tests.booking_api.booking_world import CLERK, booking_engine, migrated_engine
from tests.booking_api.outbox_support import Messaging, messaging, phone_of

__all__ = ["booking_engine", "messaging", "migrated_engine"]
NEW_MOBILE = "07700 900 555"
NEW_E164 = "+447700900555"


def _start(m: Messaging, channel: MessageChannel, text: str) -> int:
    return start_check(m.db, m.world.patients[0], channel, text, m.clock(),
                       m.world.patient_actor(0), fictional_numbers=True)


def _code_texted_to(m: Messaging, number: str) -> str:
    texts = [t for t in m.texts() if t.to == number]
    assert len(texts) == 1
    return re.search(r"security code is (\d{6})", texts[0].body).group(1)


def test_a_new_mobile_gets_a_code_by_text_and_is_used_only_once_confirmed(
        messaging: Messaging) -> None:
    check = _start(messaging, MessageChannel.SMS, NEW_MOBILE)
    messaging.drain()
    code = _code_texted_to(messaging, NEW_E164)
    assert contact_details(messaging.db, messaging.world.patients[0]).phone == phone_of(0)
    confirm_code(messaging.db, messaging.world.patients[0], check, code, messaging.clock(),
                 messaging.world.patient_actor(0))
    assert contact_details(messaging.db, messaging.world.patients[0]).phone == NEW_E164


def test_a_new_email_address_gets_its_code_by_email(messaging: Messaging) -> None:
    check = _start(messaging, MessageChannel.EMAIL, "New.Person@Example.ORG")
    messaging.drain()
    caught = [e for e in messaging.emails() if "new.person@example.org" in
              [r.lower() for r in e.recipients]]
    assert len(caught) == 1 and caught[0].message["Subject"] == "Your security code"
    body = caught[0].message.get_body(("plain",)).get_content()
    code = re.search(r"security code is (\d{6})", body).group(1)
    confirm_code(messaging.db, messaging.world.patients[0], check, code, messaging.clock(),
                 messaging.world.patient_actor(0))
    assert contact_details(messaging.db, messaging.world.patients[0]).email == \
        "New.Person@example.org"


def test_a_code_is_texted_even_in_quiet_hours(messaging: Messaging) -> None:
    messaging.clock.now = messaging.clock.now.replace(hour=23)
    _start(messaging, MessageChannel.SMS, NEW_MOBILE)
    messaging.drain()
    assert _code_texted_to(messaging, NEW_E164)


def test_wrong_codes_are_counted_and_then_a_new_code_is_needed(messaging: Messaging) -> None:
    check = _start(messaging, MessageChannel.SMS, NEW_MOBILE)
    messaging.drain()
    code = _code_texted_to(messaging, NEW_E164)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(MAX_WRONG_CODES):
        with pytest.raises(ContactRefused, match="not right"):
            confirm_code(messaging.db, messaging.world.patients[0], check, wrong,
                         messaging.clock(), messaging.world.patient_actor(0))
    with pytest.raises(ContactRefused, match="too many times"):
        confirm_code(messaging.db, messaging.world.patients[0], check, code, messaging.clock(),
                     messaging.world.patient_actor(0))
    assert contact_details(messaging.db, messaging.world.patients[0]).phone == phone_of(0)


def test_an_expired_code_is_refused(messaging: Messaging) -> None:
    check = _start(messaging, MessageChannel.SMS, NEW_MOBILE)
    messaging.drain()
    code = _code_texted_to(messaging, NEW_E164)
    messaging.clock.advance(timedelta(minutes=11))
    with pytest.raises(ContactRefused, match="expired"):
        confirm_code(messaging.db, messaging.world.patients[0], check, code, messaging.clock(),
                     messaging.world.patient_actor(0))


@pytest.mark.parametrize(("channel", "text", "field", "message"), [
    (MessageChannel.SMS, "", "mobile", "Enter your mobile number"),
    (MessageChannel.SMS, "0121 496 0000", "mobile", "Enter a UK mobile number"),
    (MessageChannel.SMS, "not a number", "mobile", "Enter a UK mobile number"),
    (MessageChannel.SMS, "+33 6 12 34 56 78", "mobile", "Enter a UK mobile number"),
    (MessageChannel.EMAIL, "", "email", "Enter your email address"),
    (MessageChannel.EMAIL, "name@", "email", "in the correct format"),
    (MessageChannel.EMAIL, "name example.com", "email", "in the correct format"),
])
def test_a_bad_address_is_refused_naming_the_field_and_nothing_is_sent(
        messaging: Messaging, channel, text, field, message) -> None:
    with pytest.raises(ContactRefused, match=message) as refused:
        _start(messaging, channel, text)
    assert refused.value.field == field
    assert messaging.rows() == []


@pytest.mark.parametrize("code", ["", "12345", "12345a", "１２３４５６"])
def test_a_code_that_is_not_six_numbers_is_refused_naming_the_field(messaging: Messaging,
                                                                    code: str) -> None:
    check = _start(messaging, MessageChannel.SMS, NEW_MOBILE)
    with pytest.raises(ContactRefused) as refused:
        confirm_code(messaging.db, messaging.world.patients[0], check, code, messaging.clock(),
                     messaging.world.patient_actor(0))
    assert refused.value.field == "code"


def test_a_preference_needs_a_confirmed_address(messaging: Messaging) -> None:
    patient = messaging.world.patients[0]
    with messaging.db.transaction() as session:
        session.get(Patient, patient).email = None
    with pytest.raises(ContactRefused, match="Add an email address") as refused:
        set_preference(messaging.db, patient, ContactPreference.BOTH,
                       messaging.world.patient_actor(0))
    assert refused.value.field == "preference"
    assert contact_details(messaging.db, patient).preference is ContactPreference.BOTH


@pytest.mark.parametrize(("preference", "channels"), [
    (ContactPreference.SMS, {"sms"}), (ContactPreference.EMAIL, {"email"}),
    (ContactPreference.BOTH, {"sms", "email"}), (ContactPreference.NONE, {"letter"})])
def test_later_messages_follow_the_chosen_preference(messaging: Messaging, preference,
                                                     channels) -> None:
    set_preference(messaging.db, messaging.world.patients[0], preference,
                   messaging.world.patient_actor(0))
    with messaging.db.transaction() as session:
        services.book_slot(session, CLERK, messaging.world.requests[0],
                           messaging.world.slots["S1-XR1"][0], now=messaging.clock())
    with messaging.db.reading() as session:
        sent_on = set(session.scalars(select(OutboxMessage.channel).where(
            OutboxMessage.event == "booked")))
    assert sent_on == channels

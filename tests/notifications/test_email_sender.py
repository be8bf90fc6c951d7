"""Email over real SMTP to a local aiosmtpd server: text and HTML alternatives, the invite as a
`text/calendar` part whose `method=` matches the file's METHOD and as an .ics attachment; 4xx
replies and a server that is down are retryable, 5xx replies permanent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from fake_providers.serving import free_port
from fake_providers.smtp_catcher import caught_emails
from notifications.email_content import email_content
from notifications.email_sender import (
    SmtpEmailSender,
    SmtpSettings,
    build_email,
)
from notifications.errors import InvalidFieldError, PermanentSendError, RetryableSendError
from notifications.events import MessageEvent
from tests.notifications.conftest import EXAMS, SERVICE, notice_for

RECIPIENT = "sam@example.com"
STAMP = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _message(event: MessageEvent = MessageEvent.BOOKED, recipient: str = RECIPIENT):
    content = email_content(event, notice_for(EXAMS["MBRAC"], sequence=2), SERVICE,
                            recipient, STAMP)
    return build_email(content, sender=SERVICE.email_from, sender_name=SERVICE.name,
                       recipient=recipient, sent_at=STAMP)


def _sender(catcher) -> SmtpEmailSender:
    return SmtpEmailSender(SmtpSettings(host=catcher.host, port=catcher.port,
                                        timeout_seconds=5))


def _parts(message) -> dict[str, list]:
    found: dict[str, list] = {}
    for part in message.walk():
        found.setdefault(part.get_content_type(), []).append(part)
    return found


def test_a_sent_email_arrives_with_its_message_id(smtp_catcher) -> None:
    message = _message()

    message_id = _sender(smtp_catcher).send(message)

    [caught] = smtp_catcher.handler.caught()
    assert caught.message["Message-ID"] == message_id
    assert caught.recipients == (RECIPIENT,)
    assert caught.envelope_from == SERVICE.email_from
    assert caught.subject == "Appointment booked for Tuesday 14 July 2026 at 9:30am"
    assert caught.message["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize("event", [MessageEvent.BOOKED, MessageEvent.CHANGED,
                                   MessageEvent.MOVED_BY_SERVICE, MessageEvent.CANCELLED,
                                   MessageEvent.CANCELLED_BY_SERVICE])
def test_the_calendar_parts_method_matches_the_files_method(smtp_catcher,
                                                            event: MessageEvent) -> None:
    _sender(smtp_catcher).send(_message(event))

    parts = _parts(smtp_catcher.handler.caught()[0].message)

    [calendar_part] = parts["text/calendar"]
    [attachment] = parts["application/ics"]
    inline_file = calendar_part.get_content()
    attached_file = attachment.get_content()
    inline = Calendar.from_ical(inline_file)
    assert calendar_part.get_param("method") == str(inline["method"])
    assert str(inline["method"]) == event.calendar_method.value
    assert Calendar.from_ical(attached_file)["method"] == inline["method"]
    assert attachment.get_filename() == "appointment.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert str(inline.events[0]["uid"]) == "booking-4321@book.example.nhs.uk"


def test_text_and_html_are_alternatives_of_one_message(smtp_catcher) -> None:
    _sender(smtp_catcher).send(_message())
    message = smtp_catcher.handler.caught()[0].message
    [alternative] = _parts(message)["multipart/alternative"]
    types = [part.get_content_type() for part in alternative.iter_parts()]
    assert types == ["text/plain", "text/html", "text/calendar"]
    assert "MRI brain with contrast" in message.get_body(("plain",)).get_content()
    assert "MRI brain with contrast" in message.get_body(("html",)).get_content()


def test_a_reminder_has_no_invite(smtp_catcher) -> None:
    _sender(smtp_catcher).send(_message(MessageEvent.REMINDER))
    parts = _parts(smtp_catcher.handler.caught()[0].message)
    assert "text/calendar" not in parts and "application/ics" not in parts


def test_the_catcher_keeps_messages_in_a_maildir_for_the_demo_page(smtp_catcher,
                                                                   tmp_path) -> None:
    sender = _sender(smtp_catcher)
    sender.send(_message(MessageEvent.BOOKED))
    sender.send(_message(MessageEvent.CANCELLED))
    subjects = [m["Subject"] for m in caught_emails(tmp_path / "mail")]
    assert subjects == ["Appointment booked for Tuesday 14 July 2026 at 9:30am",
                        "Appointment on Tuesday 14 July 2026 cancelled"]


def test_a_4xx_reply_is_retryable(smtp_catcher) -> None:
    smtp_catcher.handler.refuse_next(1, "451 4.3.0 Try again later")
    with pytest.raises(RetryableSendError) as caught:
        _sender(smtp_catcher).send(_message())
    assert caught.value.provider_code == 451
    assert smtp_catcher.handler.caught() == []


def test_a_5xx_reply_is_permanent(smtp_catcher) -> None:
    smtp_catcher.handler.refuse_next(1, "554 5.6.0 Message refused")
    with pytest.raises(PermanentSendError) as caught:
        _sender(smtp_catcher).send(_message())
    assert caught.value.provider_code == 554


def test_a_refused_recipient_is_permanent(smtp_catcher) -> None:
    smtp_catcher.handler.refused_recipients.add(RECIPIENT)
    with pytest.raises(PermanentSendError) as caught:
        _sender(smtp_catcher).send(_message())
    assert caught.value.provider_code == 550


def test_a_server_that_is_down_is_retryable_and_known_not_sent() -> None:
    sender = SmtpEmailSender(SmtpSettings(port=free_port(), timeout_seconds=2))
    with pytest.raises(RetryableSendError) as caught:
        sender.send(_message())
    assert not caught.value.outcome_unknown


def test_an_invite_without_the_method_it_was_written_with_is_refused() -> None:
    content = email_content(MessageEvent.CANCELLED, notice_for(EXAMS["MKNEE"]), SERVICE,
                            RECIPIENT, STAMP)
    with pytest.raises(InvalidFieldError) as caught:
        build_email(replace(content, calendar_method=None), sender=SERVICE.email_from,
                    sender_name=SERVICE.name,
                    recipient=RECIPIENT)
    assert caught.value.field == "calendar_method"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"recipient": "not-an-address"}, "recipient"),
    ({"recipient": "a@b.com, c@d.com"}, "recipient"),
    ({"recipient": "x@example.com\r\nBcc: y@example.com"}, "recipient"),
    ({"sender": "nobody"}, "sender"),
])
def test_a_bad_address_is_refused_naming_it(kwargs: dict, field: str) -> None:
    content = email_content(MessageEvent.REMINDER, notice_for(EXAMS["MKNEE"]), SERVICE,
                            RECIPIENT, STAMP)
    values = {"sender": SERVICE.email_from, "sender_name": SERVICE.name,
              "recipient": RECIPIENT, **kwargs}
    with pytest.raises(InvalidFieldError) as caught:
        build_email(content, **values)
    assert caught.value.field == field


@pytest.mark.parametrize(("settings", "field"), [
    ({"host": " "}, "host"), ({"port": 0}, "port"), ({"username": "me"}, "username"),
    ({"timeout_seconds": -1}, "timeout_seconds"),
])
def test_bad_smtp_settings_are_refused_naming_the_field(settings: dict, field: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        SmtpSettings(**settings)
    assert caught.value.field == field

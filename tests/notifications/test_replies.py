"""SMS replies: Twilio's own keywords keep Twilio's meaning (an opt-out word is never read as
one of ours), CONFIRM and CHANGE are ours, and anything else gets a helpful answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifications.replies import (
    CHANGE_WORDS,
    CONFIRM_WORDS,
    TWILIO_HELP_WORDS,
    TWILIO_KEYWORDS,
    TWILIO_OPT_IN_WORDS,
    TWILIO_OPT_OUT_WORDS,
    ReplyIntent,
    UpcomingAppointment,
    reply_intent,
    reply_outcome,
)
from notifications.wording import is_gsm7
from tests.notifications.conftest import SERVICE

APPOINTMENT = UpcomingAppointment(datetime(2026, 7, 14, 8, 30, tzinfo=UTC),
                                  "Northfield Community Diagnostic Centre")
SPELLINGS = ["{}", "{} ", " {}\n", "{}.", "{}!"]


def _spellings(word: str) -> list[str]:
    return [form.format(case) for form in SPELLINGS
            for case in (word, word.lower(), word.capitalize())]


def test_twilios_default_opt_out_words_are_all_known() -> None:
    assert {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"} <= TWILIO_OPT_OUT_WORDS
    assert {"START", "UNSTOP"} <= TWILIO_OPT_IN_WORDS


def test_none_of_our_words_is_a_twilio_keyword() -> None:
    assert not (CONFIRM_WORDS | CHANGE_WORDS) & TWILIO_KEYWORDS


@pytest.mark.parametrize("word", sorted(TWILIO_OPT_OUT_WORDS))
def test_an_opt_out_word_is_an_opt_out_however_written(word: str) -> None:
    for body in _spellings(word):
        assert reply_intent(body) is ReplyIntent.OPT_OUT, body


@pytest.mark.parametrize("word", sorted(TWILIO_OPT_IN_WORDS))
def test_an_opt_in_word_is_an_opt_in(word: str) -> None:
    for body in _spellings(word):
        assert reply_intent(body) is ReplyIntent.OPT_IN, body


@pytest.mark.parametrize("word", sorted(TWILIO_HELP_WORDS))
def test_a_help_word_gets_our_help(word: str) -> None:
    outcome = reply_outcome(word, SERVICE, APPOINTMENT)
    assert outcome.intent is ReplyIntent.HELP
    assert "Reply CONFIRM" in outcome.answer and "STOP" in outcome.answer


@pytest.mark.parametrize("word", sorted(TWILIO_KEYWORDS))
@pytest.mark.parametrize("tail", ["", " please", " my appointment"])
def test_a_twilio_keyword_is_never_read_as_confirm_or_change(word: str, tail: str) -> None:
    assert reply_intent(word + tail) not in {ReplyIntent.CONFIRM, ReplyIntent.CHANGE}


@pytest.mark.parametrize("body", [*_spellings("CONFIRM"), "Confirmed thanks", "attending"])
def test_confirm_is_ours_and_is_answered_with_the_time(body: str) -> None:
    outcome = reply_outcome(body, SERVICE, APPOINTMENT)
    assert outcome.intent is ReplyIntent.CONFIRM
    assert "Tuesday 14 July at 9:30am" in outcome.answer


@pytest.mark.parametrize("body", [*_spellings("CHANGE"), "move please", "Reschedule"])
def test_change_is_ours_and_is_answered_with_the_portal_link(body: str) -> None:
    outcome = reply_outcome(body, SERVICE, APPOINTMENT)
    assert outcome.intent is ReplyIntent.CHANGE
    assert SERVICE.portal_url in outcome.answer and SERVICE.phone in outcome.answer


@pytest.mark.parametrize("word", sorted(TWILIO_OPT_OUT_WORDS | TWILIO_OPT_IN_WORDS))
def test_we_stay_silent_where_twilio_answers_itself(word: str) -> None:
    assert reply_outcome(word, SERVICE, APPOINTMENT).answer is None


@pytest.mark.parametrize("body", ["", "   ", "hello", "What time is it?", "😀", "yes I will come",
                                  "stop texting me", "cancel my appointment", "1234", "?" * 500])
def test_anything_else_gets_a_helpful_answer(body: str) -> None:
    outcome = reply_outcome(body, SERVICE, APPOINTMENT)
    assert outcome.intent is ReplyIntent.UNKNOWN
    assert "Reply CONFIRM" in outcome.answer and SERVICE.portal_url in outcome.answer
    assert is_gsm7(outcome.answer)


def test_a_multi_word_stop_is_told_how_to_stop() -> None:
    answer = reply_outcome("Stop texting me", SERVICE, APPOINTMENT).answer
    assert "reply STOP on its own" in answer


def test_a_multi_word_cancel_is_told_how_to_cancel() -> None:
    answer = reply_outcome("please cancel it", SERVICE, APPOINTMENT).answer
    assert f"To cancel, go to {SERVICE.portal_url}" in answer


@pytest.mark.parametrize("body", ["CONFIRM", "CHANGE", "hello"])
def test_a_number_without_an_appointment_is_told_so(body: str) -> None:
    outcome = reply_outcome(body, SERVICE, None)
    assert "could not find an upcoming appointment" in outcome.answer


@pytest.mark.parametrize(("opt_out_type", "intent"), [
    ("STOP", ReplyIntent.OPT_OUT), ("start", ReplyIntent.OPT_IN), ("HELP", ReplyIntent.HELP)])
def test_twilios_opt_out_type_says_what_twilio_did(opt_out_type: str,
                                                   intent: ReplyIntent) -> None:
    assert reply_intent("ARRET", opt_out_type=opt_out_type) is intent

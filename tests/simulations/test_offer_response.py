"""The offer response model: the anchors its docstring promises, and its direction of effect."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from domain.vocabulary import Priority
from simulations.offer_response import Offer, ResponseModel

MORNING = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
MODEL = ResponseModel()


def _offer(hours_ahead: float, **changes: object) -> Offer:
    offer = Offer(MORNING, MORNING + timedelta(hours=hours_ahead), distance_km=20,
                  waited_days=28, priority=Priority.ROUTINE)
    return replace(offer, **changes)


def test_a_typical_patient_takes_a_two_day_offer_about_a_third_of_the_time() -> None:
    assert 0.30 <= MODEL.p_accept(_offer(48)) <= 0.36
    assert 0.11 <= MODEL.p_accept(_offer(6)) <= 0.17


def test_more_notice_and_a_longer_wait_make_yes_likelier_and_distance_less() -> None:
    assert MODEL.p_accept(_offer(96)) > MODEL.p_accept(_offer(48))
    assert MODEL.p_accept(_offer(48, waited_days=70)) > MODEL.p_accept(_offer(48))
    assert MODEL.p_accept(_offer(48, distance_km=60)) < MODEL.p_accept(_offer(48))


def test_evening_offers_are_answered_in_time_less_often() -> None:
    evening = _offer(48, sent_at=MORNING.replace(hour=19))
    assert MODEL.p_answer_in_time(evening) < MODEL.p_answer_in_time(_offer(48))


def test_the_same_seed_gives_the_same_answers() -> None:
    answers = [[MODEL.answer(_offer(48), rng) for _ in range(50)]
               for rng in (np.random.default_rng(3), np.random.default_rng(3))]
    assert answers[0] == answers[1]


def test_many_patients_answer_as_each_would_alone():
    model = ResponseModel()
    sent = datetime(2027, 1, 5, 10, tzinfo=UTC)
    km, waited, urgent = np.array([3.0, 25.0]), np.array([10, 90]), np.array([False, True])
    many = model.p_yes_in_day(2.0, km, waited, urgent)
    for i, priority in enumerate((Priority.ROUTINE, Priority.URGENT)):
        offer = Offer(sent, sent + timedelta(days=2), float(km[i]), int(waited[i]), priority)
        alone = model.p_answer_in_time(offer) * model.p_accept(offer)
        assert many[i] == pytest.approx(alone)

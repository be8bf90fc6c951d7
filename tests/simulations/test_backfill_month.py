"""The month simulation: cancellations follow the synthetic history's rates (more with a
longer lead, none before the window), the same seed gives the same month, and every offer
the service sends is answered (or not) within its time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from domain.vocabulary import Modality, Priority
from simulations.backfill_month import (
    Booking,
    Cancellation,
    SentOffer,
    draw_cancellations,
    simulate_month,
)
from simulations.offer_response import Offer, ResponseModel

START = datetime(2027, 1, 4, tzinfo=UTC)


def _bookings(count: int, modality: Modality, priority: Priority) -> list[Booking]:
    return [Booking(i, START + timedelta(days=20, minutes=i), modality, priority)
            for i in range(count)]


def test_cancellations_are_drawn_at_the_historys_rates_and_inside_the_window():
    bookings = _bookings(20000, Modality.MR, Priority.ROUTINE)
    starts = {b.appointment_id: b.start for b in bookings}
    routine_mr = draw_cancellations(bookings, START, np.random.default_rng(3))
    urgent_xr = draw_cancellations(_bookings(20000, Modality.XR, Priority.TWO_WEEK_WAIT),
                                   START, np.random.default_rng(3))
    assert all(START <= c.at < starts[c.appointment_id] for c in routine_mr)
    assert 0.02 < len(routine_mr) / 20000 < 0.06  # ~0.018 + 0.0012 per lead day
    assert len(urgent_xr) < len(routine_mr)  # shorter leads, fewer cancellations


def test_the_same_seed_gives_the_same_month():
    bookings = _bookings(3000, Modality.CT, Priority.ROUTINE)
    first = draw_cancellations(bookings, START, np.random.default_rng(9))
    assert first == draw_cancellations(bookings, START, np.random.default_rng(9))
    assert first != draw_cancellations(bookings, START, np.random.default_rng(10))


@dataclass
class OneOfferEach:
    """A service that sends one offer per cancellation and records the answers."""

    pending: list[SentOffer] = field(default_factory=list)
    answers: list[tuple[int, bool, datetime]] = field(default_factory=list)
    sent: dict[int, SentOffer] = field(default_factory=dict)

    def cancel(self, cancellation: Cancellation) -> None:
        offer = SentOffer(cancellation.appointment_id, Offer(
            cancellation.at, cancellation.at + timedelta(days=3), 5.0, 30, Priority.ROUTINE),
            cancellation.at + timedelta(minutes=15))
        self.pending.append(offer)
        self.sent[offer.offer_id] = offer

    def run_until(self, at: datetime) -> list[SentOffer]:
        sent, self.pending = self.pending, []
        return sent

    def answer(self, offer_id: int, accept: bool, at: datetime) -> None:
        self.answers.append((offer_id, accept, at))


def test_every_answer_comes_within_its_offers_time():
    cancellations = [Cancellation(i, START + timedelta(hours=10 + i), False)
                     for i in range(200)]
    service = OneOfferEach()
    log = simulate_month(service, cancellations, ResponseModel(), np.random.default_rng(1),
                         START + timedelta(days=30))
    assert log.cancellations == log.offers_sent == 200
    assert len(service.answers) == log.answers["yes"] + log.answers["no"] > 0
    for offer_id, _, at in service.answers:
        offer = service.sent[offer_id]
        assert offer.offer.sent_at <= at < offer.expires_at

"""The month simulation: cancellations follow the synthetic history's rates (more with a
longer lead, none before the window), the same seed gives the same month, and every offer
the service sends is answered (or not) within its time."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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

    def next_due(self) -> datetime | None:
        return None


@dataclass
class OffersInTheMorning(OneOfferEach):
    """Holds each cancellation's offer until 08:00 (its quiet hours) and says so."""

    held: list[Cancellation] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)

    def cancel(self, cancellation: Cancellation) -> None:
        self.held.append(cancellation)

    def run_until(self, at: datetime) -> list[SentOffer]:
        self.times.append(at)
        morning = [c for c in self.held if self._morning(c) <= at]
        self.held = [c for c in self.held if c not in morning]
        for cancellation in morning:
            super().cancel(replace(cancellation, at=self._morning(cancellation)))
        return super().run_until(at)

    def next_due(self) -> datetime | None:
        return min((self._morning(c) for c in self.held), default=None)

    @staticmethod
    def _morning(cancellation: Cancellation) -> datetime:
        return cancellation.at.replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(
            days=1 if cancellation.at.hour >= 8 else 0)


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


def test_work_held_over_the_quiet_hours_runs_when_they_end_not_at_the_next_event():
    late = START + timedelta(hours=22)
    service = OffersInTheMorning()
    log = simulate_month(service, [Cancellation(1, late, False),
                                   Cancellation(2, late + timedelta(days=2), False)],
                         ResponseModel(), np.random.default_rng(1), START + timedelta(days=5))
    morning = START + timedelta(days=1, hours=8)
    assert morning in service.times
    assert service.sent[1].offer.sent_at == morning and log.offers_sent == 2

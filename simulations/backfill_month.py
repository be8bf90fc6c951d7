"""A month of backfill: cancellations drawn from the synthetic history's rates and lead
times, offers answered by the patient response model (`offer_response`), run against any
backfill service that implements `BackfillService` (the real one in the benchmark; a what-if
scenario may plug in its own). Plain Python over a simulated clock: the service is told the
time of every event; nothing here waits.

Cancellations: each booking was made a log-normal lead time before its start (median per
modality and priority, spread and cap as in `synthetic_history.appointments`); it is
cancelled by the hospital or the patient with the history's probabilities, which grow with
the lead time, at a moment drawn uniformly between booking and start. Only cancellations
that fall inside the simulated window happen in it.

Time: the service is told the time at every event (a cancellation, an answer, an offer's
expiry) and whenever it says it next has work due (`next_due`), so work held over the quiet
hours runs when they end, not at the next cancellation.

Answers: a patient offered a slot answers within the offer's time with the model's
probability, says yes with its probability, and answers at a moment drawn uniformly in the
first 90 % of the offer's time (a few answers arrive as the wave lapses)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from domain.vocabulary import Modality, Priority
from simulations.offer_response import Offer, ResponseModel
from simulations.synthetic_history.appointments import (
    HOSPITAL_CANCEL,
    LEAD_MEDIAN_DAYS,
    LEAD_SIGMA,
    MAX_LEAD_DAYS,
    PATIENT_CANCEL,
)
from simulations.synthetic_history.demand import PRIORITIES
from simulations.synthetic_history.sites import MODALITIES

ANSWER_WITHIN = 0.9
"""Answers come in the first 90 % of an offer's time."""
MAX_CANCEL_LEAD_DAYS = 60
"""The history caps the lead time its cancellation chance grows with."""


@dataclass(frozen=True)
class Booking:
    """An appointment in the window as the simulation sees it."""

    appointment_id: int
    start: datetime
    modality: Modality
    priority: Priority


@dataclass(frozen=True)
class Cancellation:
    appointment_id: int
    at: datetime
    by_patient: bool


@dataclass(frozen=True)
class SentOffer:
    """An offer the service has sent: what the response model reads, and its expiry."""

    offer_id: int
    offer: Offer
    expires_at: datetime


class BackfillService(Protocol):
    def cancel(self, cancellation: Cancellation) -> None:
        """Cancel the booking at `cancellation.at` (the service backfills what it frees)."""

    def run_until(self, at: datetime) -> list[SentOffer]:
        """Do everything due by `at` (waves, messages); the offers sent meanwhile."""

    def answer(self, offer_id: int, accept: bool, at: datetime) -> None:
        """The patient's answer to an offer, at `at`."""

    def next_due(self) -> datetime | None:
        """When the service next has work queued (a wave held over the quiet hours, say):
        the month ticks then, as the service's job runner would wake."""


@dataclass
class MonthLog:
    cancellations: int = 0
    offers_sent: int = 0
    answers: dict[str, int] = field(default_factory=lambda: {"yes": 0, "no": 0, "none": 0})


def draw_cancellations(bookings: Sequence[Booking], window_start: datetime,
                       rng: np.random.Generator) -> list[Cancellation]:
    """The cancellations of `bookings` that fall inside the window (from `window_start`)."""
    cancellations = []
    for booking in bookings:
        median = LEAD_MEDIAN_DAYS[MODALITIES.index(booking.modality),
                                  PRIORITIES.index(booking.priority)]
        lead_days = min(max(1.0, round(max(median, 1) * rng.lognormal(0.0, LEAD_SIGMA))),
                        MAX_LEAD_DAYS)
        capped = min(lead_days, MAX_CANCEL_LEAD_DAYS)
        by_hospital = rng.random() < HOSPITAL_CANCEL[0] + HOSPITAL_CANCEL[1] * capped
        by_patient = rng.random() < PATIENT_CANCEL[0] + PATIENT_CANCEL[1] * capped
        moment = booking.start - timedelta(days=lead_days * rng.random())
        if not (by_hospital or by_patient) or moment < window_start:
            continue
        cancellations.append(Cancellation(booking.appointment_id, moment,
                                          by_patient and not by_hospital))
    return sorted(cancellations, key=lambda c: (c.at, c.appointment_id))


def simulate_month(service: BackfillService, cancellations: Sequence[Cancellation],
                   model: ResponseModel, rng: np.random.Generator, end: datetime) -> MonthLog:
    """Play the cancellations and the patients' answers against `service` until `end`."""
    log = MonthLog()
    order = itertools.count()
    events: list[tuple[datetime, int, str, object]] = [
        (c.at, next(order), "cancel", c) for c in cancellations if c.at < end]
    heapq.heapify(events)
    ticks: set[datetime] = set()
    while events:
        at, _, kind, payload = heapq.heappop(events)
        if at >= end:
            break
        _schedule(service.run_until(at), model, rng, events, order, log)
        if kind == "cancel":
            service.cancel(payload)  # type: ignore[arg-type]
            log.cancellations += 1
        elif kind == "answer":
            offer_id, accept = payload  # type: ignore[misc]
            service.answer(offer_id, accept, at)
        _schedule(service.run_until(at), model, rng, events, order, log)
        due = service.next_due()
        if due is not None and at < due < end and due not in ticks:
            ticks.add(due)
            heapq.heappush(events, (due, next(order), "tick", None))
    service.run_until(end)
    return log


def _schedule(sent: list[SentOffer], model: ResponseModel, rng: np.random.Generator,
              events: list, order: itertools.count, log: MonthLog) -> None:
    """Draw each new offer's answer and queue it; queue a tick at each offer's expiry so the
    service's next wave runs on time."""
    for offer in sent:
        log.offers_sent += 1
        heapq.heappush(events, (offer.expires_at, next(order), "tick", None))
        answer = model.answer(offer.offer, rng)
        if answer is None:
            log.answers["none"] += 1
            continue
        log.answers["yes" if answer else "no"] += 1
        window = (offer.expires_at - offer.offer.sent_at) * ANSWER_WITHIN
        heapq.heappush(events, (offer.offer.sent_at + window * rng.random(), next(order),
                                "answer", (offer.offer_id, answer)))

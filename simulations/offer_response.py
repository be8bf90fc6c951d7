"""How patients answer an offer of an earlier slot: a documented, seeded model the backfill
benchmark and the what-if engine share.

A patient who is offered a slot answers within the offer's time (or not at all), and says
yes with a probability that rises with the notice given and the days they have waited, and
falls with distance; offers sent in the evening are answered less often in time. The shape is
a logistic model; its default coefficients are chosen so that, for a typical routine patient
20 km away who has waited four weeks, a 48-hour offer is taken about a third of the time (in
line with the ~30 % of freed slots that automatic earlier-slot offers fill with one offer per
patient, NOTES.md) and an offer six hours ahead about one time in seven. It is a stand-in for data a
network would fit from its own offer records; every number is a field of `ResponseModel`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from domain.vocabulary import Priority

LONDON_EVENING_HOURS = range(18, 21)


@dataclass(frozen=True)
class Offer:
    sent_at: datetime
    """Timezone-aware, in Europe/London for the evening effect."""
    slot_start: datetime
    distance_km: float
    waited_days: int
    priority: Priority
    days_sooner: int = 0
    """For a patient already booked later: how much earlier the offered slot is."""


@dataclass(frozen=True)
class ResponseModel:
    intercept: float = -0.85
    per_log_day_of_notice: float = 0.55
    per_10_km: float = -0.25
    per_4_weeks_waited: float = 0.25
    per_week_sooner: float = 0.15
    urgent_bonus: float = 0.4
    evening_answer_rate: float = 0.6
    day_answer_rate: float = 0.85

    def p_answer_in_time(self, offer: Offer) -> float:
        """Probability the patient reads and answers before the offer lapses."""
        hour = offer.sent_at.hour
        return self.evening_answer_rate if hour in LONDON_EVENING_HOURS else self.day_answer_rate

    def p_accept(self, offer: Offer) -> float:
        """Probability of yes, given an answer."""
        notice_days = max((offer.slot_start - offer.sent_at).total_seconds() / 86400, 1 / 24)
        logit = (self.intercept
                 + self.per_log_day_of_notice * math.log(notice_days)
                 + self.per_10_km * offer.distance_km / 10
                 + self.per_4_weeks_waited * min(offer.waited_days, 84) / 28
                 + self.per_week_sooner * offer.days_sooner / 7
                 + (self.urgent_bonus if offer.priority in (Priority.TWO_WEEK_WAIT,
                                                            Priority.URGENT) else 0.0))
        return 1 / (1 + math.exp(-logit))

    def p_yes_in_day(self, notice_days: float, distance_km: np.ndarray,
                     waited_days: np.ndarray, urgent: np.ndarray) -> np.ndarray:
        """Probability each patient answers yes in time to an offer sent in the day
        `notice_days` ahead of the slot: `p_answer_in_time` × `p_accept`, for many patients
        at once (the what-if engine's offers)."""
        logit = (self.intercept
                 + self.per_log_day_of_notice * math.log(max(notice_days, 1 / 24))
                 + self.per_10_km * distance_km / 10
                 + self.per_4_weeks_waited * np.minimum(waited_days, 84) / 28
                 + np.where(urgent, self.urgent_bonus, 0.0))
        return self.day_answer_rate / (1 + np.exp(-logit))

    def answer(self, offer: Offer, rng: np.random.Generator) -> bool | None:
        """True (yes), False (no) or None (no answer in time), drawn from `rng`."""
        if rng.random() >= self.p_answer_in_time(offer):
            return None
        return bool(rng.random() < self.p_accept(offer))

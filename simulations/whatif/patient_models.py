"""What happens to a booking, drawn when it is made, from the same models the synthetic history
is generated with (never a second copy of their numbers): cancellation by the hospital or the
patient, growing with the lead time (`synthetic_history.appointments`); the DNA risk of the
history's logistic model (`synthetic_history.dna_risk`); vetting delays and walk-in shares;
and how patients answer offers of freed slots, from the patient response model the backfill
benchmark uses (`offer_response`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulations.offer_response import ResponseModel
from simulations.synthetic_history.appointments import (
    HOSPITAL_CANCEL,
    PATIENT_CANCEL,
    REBOOK_AFTER_DNA,
    VETTING_DELAY_MEAN_DAYS,
    WALK_IN_SHARE,
)
from simulations.synthetic_history.dna_risk import (
    DNA_COEFFICIENTS,
    DnaFeatures,
    history_term,
    logit_without_history,
)

MAX_CANCEL_LEAD_DAYS = 60
CLERK_REBOOK_NOTICE_DAYS = 7
"""Without backfill a freed slot is rebooked only when a clerk has time to write to someone
from the list: a week or more ahead. Closer to the day it goes unused (today's practice)."""
TYPICAL_START_MINUTE = 600
SMS_SHARE = 0.85
__all__ = ["REBOOK_AFTER_DNA", "VETTING_DELAY_MEAN_DAYS", "WALK_IN_SHARE"]


@dataclass(frozen=True)
class BackfillModel:
    """Offers of a freed slot go to up to `candidates` waiting patients in turn (waves of the
    service's policy fit many times into any notice of a day or more); each answers by the
    response model with their own distance, wait and priority (the engine's `_offer`)."""

    candidates: int = 30
    response: ResponseModel = field(default_factory=ResponseModel)


def cancellation(lead_days: np.ndarray, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cancelled, by_patient, day offset after booking) for bookings `lead_days` ahead."""
    capped = np.minimum(lead_days, MAX_CANCEL_LEAD_DAYS)
    p_hospital = HOSPITAL_CANCEL[0] + HOSPITAL_CANCEL[1] * capped
    p_patient = PATIENT_CANCEL[0] + PATIENT_CANCEL[1] * capped
    draw = rng.random(len(lead_days))
    cancelled = (draw < p_hospital + p_patient) & (lead_days >= 1)
    by_patient = draw < p_patient
    offset = np.floor(rng.random(len(lead_days)) * lead_days).astype(np.int32)
    return cancelled, by_patient, offset


def dna_probability(lead_days: np.ndarray, age_years: np.ndarray, imd: np.ndarray,
                    km: np.ndarray, weekday: np.ndarray, prior_dna: np.ndarray,
                    patient_effect: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The history's DNA model at booking; the engine gives no time of day (mid-morning),
    the clerk books (channel 1), and most patients get an SMS reminder."""
    n = len(lead_days)
    features = DnaFeatures(
        lead_days=lead_days.astype(float), age_years=age_years, imd_decile=imd,
        distance_km=km, weekday=weekday, start_minute=np.full(n, TYPICAL_START_MINUTE),
        sms=(rng.random(n) < SMS_SHARE).astype(float), channel=np.ones(n, dtype=np.int64),
        patient_effect=patient_effect)
    logit = logit_without_history(features) + history_term(prior_dna)
    return 1 / (1 + np.exp(-logit))


def vetting_delay(priority: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Days from referral to a justified request: geometric, the history's mean per priority."""
    mean = np.array(VETTING_DELAY_MEAN_DAYS)[priority]
    return rng.geometric(1 / (1 + mean)) - 1


def patient_effect_sd() -> float:
    return DNA_COEFFICIENTS.patient_effect_sd


def adult_age(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ages of adult patients: imaging use rises with age, so skewed older."""
    return np.clip(np.round(18 + 70 * rng.beta(2.2, 1.8, n)), 16, 95)



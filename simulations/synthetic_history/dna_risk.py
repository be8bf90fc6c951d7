"""Who does not attend: a logistic model over stated factors plus a hidden patient effect, and
the sweep that decides every outcome in time order so that prior DNAs are exact.

    logit p = intercept
            + lead      × log(1 + lead_time_days)                   (strongest booking factor)
            + age band  (under 16 / 16-29 / 30-44 / 45-64 = 0 / 65-79 / 80+)
            + prior_dna × log(1 + min(prior DNAs, 5))                (from EARLIER appointments)
            + deprivation × (10 - IMD decile) / 9                   (decile 1 = most deprived)
            + distance  × log(1 + km)
            + weekday   (Monday, Friday, Saturday, Sunday)  + time of day (before 09:30, from 17:00)
            + sms       × [SMS reminder]      (log 0.77: the published risk ratio)
            + channel   (portal / letter; clerk = 0)
            + u_patient,  u_patient ~ Normal(0, patient_effect_sd), never written to the files

Prior DNAs count the patient's DNAs among appointments that exist and start strictly earlier
(same patient, same start minute: neither counts the other). Appointments are swept in waves of
the patient's visit index k = 1..K: all k-th visits at once, each seeing the outcomes of visits
< k, so the sequential dependency costs K vectorised steps, not a Python loop per row."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import expit

from simulations.synthetic_history.appointments import (
    CANCELLED_HOSPITAL,
    CANCELLED_PATIENT,
    DNA,
    Attempts,
)

PRIOR_DNA_CAP = 5


@dataclass(frozen=True)
class DnaCoefficients:
    intercept: float = -5.05
    log1p_lead_days: float = 0.55
    age_under_16: float = -0.2
    age_16_29: float = 0.5
    age_30_44: float = 0.25
    age_65_79: float = -0.2
    age_80_plus: float = 0.1
    log1p_prior_dna: float = 1.2
    deprivation: float = 0.7
    log1p_distance_km: float = 0.12
    monday: float = 0.1
    friday: float = 0.1
    saturday: float = 0.15
    sunday: float = 0.2
    before_0930: float = 0.1
    from_1700: float = 0.2
    sms_reminder: float = math.log(0.77)
    portal: float = -0.3
    letter: float = 0.3
    patient_effect_sd: float = 0.35

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


DNA_COEFFICIENTS = DnaCoefficients()


@dataclass(frozen=True)
class DnaFeatures:
    """Everything known at booking that the model uses, one entry per attempt."""

    lead_days: np.ndarray
    age_years: np.ndarray
    imd_decile: np.ndarray
    distance_km: np.ndarray
    weekday: np.ndarray
    start_minute: np.ndarray
    sms: np.ndarray
    channel: np.ndarray  # 0 portal, 1 clerk, 2 letter
    patient_effect: np.ndarray


def logit_without_history(x: DnaFeatures, c: DnaCoefficients = DNA_COEFFICIENTS) -> np.ndarray:
    """The linear predictor of every term except prior DNAs."""
    age = x.age_years
    age_term = np.select(
        [age < 16, age < 30, age < 45, age < 65, age < 80],
        [c.age_under_16, c.age_16_29, c.age_30_44, 0.0, c.age_65_79], c.age_80_plus)
    weekday_term = np.array([c.monday, 0, 0, 0, c.friday, c.saturday, c.sunday])[x.weekday]
    time_term = np.where(x.start_minute < 570, c.before_0930,
                         np.where(x.start_minute >= 1020, c.from_1700, 0.0))
    channel_term = np.array([c.portal, 0.0, c.letter])[x.channel]
    return (c.intercept + c.log1p_lead_days * np.log1p(x.lead_days) + age_term
            + c.deprivation * (10 - x.imd_decile) / 9
            + c.log1p_distance_km * np.log1p(x.distance_km) + weekday_term + time_term
            + c.sms_reminder * x.sms + channel_term + x.patient_effect)


def history_term(prior_dna: np.ndarray, c: DnaCoefficients = DNA_COEFFICIENTS) -> np.ndarray:
    return c.log1p_prior_dna * np.log1p(np.minimum(prior_dna, PRIOR_DNA_CAP))


def could_be_dna(attempts: Attempts, base_logit: np.ndarray) -> np.ndarray:
    """Whether an attempt would be a DNA for some prior-DNA count (used to lay out the
    rebookings that might be needed before outcomes are known)."""
    highest = expit(base_logit + history_term(np.array(PRIOR_DNA_CAP)))
    return attempts.dna_draw < highest


@dataclass(frozen=True)
class Outcomes:
    exists: np.ndarray
    outcome: np.ndarray
    p_dna: np.ndarray
    prior_dna: np.ndarray


def sweep_outcomes(attempts: Attempts, patient: np.ndarray, base_logit: np.ndarray,
                   patients: int) -> Outcomes:
    """Decide which attempts happen and their outcomes, in each patient's time order."""
    start_key = attempts.start_day.astype(np.int64) * 1440 + attempts.start_minute
    order = np.argsort(patient * (int(start_key.max()) + 1) + start_key, kind="stable")
    visit = _visit_index(patient[order])
    waves = np.argsort(visit, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(visit))))
    n = len(attempts)
    result = Outcomes(np.zeros(n, bool), np.zeros(n, np.int8), np.zeros(n), np.zeros(n, np.int32))
    state = _PatientState(patients)
    for k in range(len(bounds) - 1):
        _sweep_wave(order[waves[bounds[k]:bounds[k + 1]]], attempts, patient, start_key,
                    base_logit, state, result)
    return result


class _PatientState:
    def __init__(self, patients: int) -> None:
        self.dna_count = np.zeros(patients, np.int32)
        self.last_start = np.full(patients, -1, np.int64)
        self.prior_at_last_start = np.zeros(patients, np.int32)


def _sweep_wave(rows: np.ndarray, attempts: Attempts, patient: np.ndarray,
                start_key: np.ndarray, base_logit: np.ndarray, state: _PatientState,
                result: Outcomes) -> None:
    parent = attempts.parent[rows]
    safe_parent = np.maximum(parent, 0)
    parent_outcome = result.outcome[safe_parent]
    rebooked = (parent_outcome == CANCELLED_PATIENT) | (parent_outcome == CANCELLED_HOSPITAL) | (
        (parent_outcome == DNA) & attempts.rebook_after_dna[safe_parent])
    rows = rows[(parent < 0) | (result.exists[safe_parent] & rebooked)]
    who = patient[rows]
    key = start_key[rows]
    prior = np.where(key == state.last_start[who], state.prior_at_last_start[who],
                     state.dna_count[who])
    state.last_start[who] = key
    state.prior_at_last_start[who] = prior
    p = expit(base_logit[rows] + history_term(prior))
    cancel = attempts.cancel[rows]
    outcome = np.where(cancel > 0, cancel, np.where(attempts.dna_draw[rows] < p, DNA, 0))
    state.dna_count[who] += outcome == DNA
    result.exists[rows] = True
    result.outcome[rows] = outcome
    result.p_dna[rows] = p
    result.prior_dna[rows] = prior


def _visit_index(sorted_patient: np.ndarray) -> np.ndarray:
    """Position of each entry within its run of equal patients (0 for the first)."""
    n = len(sorted_patient)
    starts = np.concatenate(([True], sorted_patient[1:] != sorted_patient[:-1]))
    run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    return np.arange(n) - run_start

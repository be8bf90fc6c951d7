"""Patients of a synthetic history: a pool per demand area whose members have a heavy-tailed
(log-normal) propensity to be referred, so that a few patients come back many times and have
a DNA history to learn from. Obstetric requests go to women aged 16-43, paediatric families to
children aged 13 or under at the start; other families favour older patients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from domain.vocabulary import ExamFamily
from simulations.synthetic_history.demand import FAMILIES

POOL_PER_REQUEST = 0.9
"""Pool members per expected request over the history (most get one or two requests)."""

MIN_POOL_PER_AREA = 200
PROPENSITY_SIGMA = 1.0
PROPENSITY_CAP = 20.0
"""No patient is more than 20 times as likely to be referred as the median patient."""

AGE_BANDS = ((0, 13, 0.16), (14, 29, 0.19), (30, 44, 0.20), (45, 64, 0.25), (65, 79, 0.14),
             (80, 99, 0.06))
"""Ages at the start of the history in the pool: (youngest, oldest, share)."""

IMAGING_USE_BY_AGE = (0.35, 0.6, 0.8, 1.1, 1.6, 1.8)
"""Relative referral rate of each age band for the general (adult-leaning) families."""

SEX_CODES = ("F", "M", "U")
SEX_SHARE = (0.54, 0.455, 0.005)

_CHILD_FAMILIES = {ExamFamily.US_PAEDIATRIC, ExamFamily.MR_PAEDIATRIC}
_PREGNANCY_FAMILIES = {ExamFamily.US_OBSTETRIC}


@dataclass(frozen=True)
class PatientPool:
    """Members sorted by area; `sex` indexes SEX_CODES."""

    area: np.ndarray
    birth_year: np.ndarray
    sex: np.ndarray
    propensity: np.ndarray
    age_band: np.ndarray

    def __len__(self) -> int:
        return len(self.area)


def build_pool(expected_per_area: np.ndarray, start_year: int,
               rng: np.random.Generator) -> PatientPool:
    sizes = np.maximum(np.ceil(expected_per_area * POOL_PER_REQUEST).astype(np.int64),
                       MIN_POOL_PER_AREA)
    total = int(sizes.sum())
    area = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    band = rng.choice(len(AGE_BANDS), size=total, p=[b[2] for b in AGE_BANDS])
    low = np.array([b[0] for b in AGE_BANDS])[band]
    high = np.array([b[1] for b in AGE_BANDS])[band]
    age = low + np.floor(rng.random(total) * (high - low + 1)).astype(np.int64)
    propensity = np.minimum(rng.lognormal(0.0, PROPENSITY_SIGMA, size=total), PROPENSITY_CAP)
    return PatientPool(
        area=area, birth_year=(start_year - age).astype(np.int32),
        sex=rng.choice(len(SEX_CODES), size=total, p=SEX_SHARE).astype(np.int8),
        propensity=propensity, age_band=band.astype(np.int8),
    )


def assign_patients(pool: PatientPool, family: np.ndarray, area: np.ndarray, start_year: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Pool index of the patient of each request, drawn within the request's area."""
    patient = np.empty(len(family), dtype=np.int64)
    group = _family_group(family)
    draws = rng.random(len(family))
    for group_code, weights in enumerate(_group_weights(pool, start_year)):
        chosen = group == group_code
        patient[chosen] = _draw_within_area(pool.area, weights, area[chosen], draws[chosen])
    return patient


def _family_group(family: np.ndarray) -> np.ndarray:
    """0 general, 1 children, 2 pregnancy, per request."""
    codes = np.array([1 if f in _CHILD_FAMILIES else 2 if f in _PREGNANCY_FAMILIES else 0
                      for f in FAMILIES], dtype=np.int8)
    return codes[family]


def _group_weights(pool: PatientPool, start_year: int) -> list[np.ndarray]:
    age = start_year - pool.birth_year
    general = pool.propensity * np.array(IMAGING_USE_BY_AGE)[pool.age_band]
    children = pool.propensity * (age <= 13)
    pregnancy = pool.propensity * ((pool.sex == 0) & (age >= 16) & (age <= 43))
    return [general, children, pregnancy]


def _draw_within_area(pool_area: np.ndarray, weights: np.ndarray, area: np.ndarray,
                      draws: np.ndarray) -> np.ndarray:
    """Weighted draw of a pool member of the given area; falls back to any member of the area
    when nobody in it qualifies (only in tiny test pools)."""
    areas = int(pool_area.max()) + 1
    first = np.searchsorted(pool_area, np.arange(areas + 1))
    empty = np.add.reduceat(weights, first[:-1]) <= 0
    weights = np.where(empty[pool_area], 1.0, weights)
    cumulative = np.cumsum(weights)
    before = np.concatenate(([0.0], cumulative))[first]
    target = before[area] + draws * (before[area + 1] - before[area])
    order = np.argsort(target)  # sorted needles make the binary search cache-friendly
    chosen = np.empty(len(target), dtype=np.int64)
    chosen[order] = np.searchsorted(cumulative, target[order], side="right")
    return np.clip(chosen, first[area], first[area + 1] - 1)

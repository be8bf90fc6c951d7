"""Requests of a synthetic history: the true daily mean per family and area, and the sampled
requests (received day, family, area, exam, priority, due day).

Mean per day = weekly volume × modality share × family share × area weight (population ×
deprivation gradient) × weekday factor × season × bank holiday × growth × scale. Each week ×
family × area gets a gamma multiplier (mean 1, shape 100: about 10 % extra spread), then each day
a Poisson draw; so the truth (expected) is the mean before either draw."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from domain.exams import ExamType
from domain.network import Network
from domain.request_mix import FAMILY_SHARE, MODALITY_SHARE
from domain.vocabulary import ExamFamily, Priority
from simulations.synthetic_history.calendar_effects import (
    HistoryCalendar,
    growth_factor,
    seasonal_factor,
)

WEEKLY_REQUESTS = 90_000
"""About 390,000 exams a month across the network at scale 1: the mean week of the first year
(bank holidays and seasons included), before growth."""


DEPRIVATION_GRADIENT = {
    ExamFamily.XR_PLAIN: 0.15, ExamFamily.CT_PLAIN: 0.10, ExamFamily.CT_CONTRAST: 0.08,
    ExamFamily.US_OBSTETRIC: 0.15, ExamFamily.MR_MSK: -0.12, ExamFamily.US_MSK: -0.08,
}
"""Relative extra referral rate in the most deprived decile versus the middle (family rates)."""

REFERRAL_WEEKDAY = {
    "walk_in": np.array([1.20, 1.12, 1.10, 1.08, 1.05, 0.30, 0.20]),
    "referred": np.array([1.25, 1.20, 1.20, 1.15, 1.05, 0.10, 0.05]),
}
"""Requests received per weekday (Monday first): GPs and clinics refer on weekdays."""

PRIORITY_MIX = {  # two_week_wait, urgent, routine, planned
    ExamFamily.XR_PLAIN: (0.02, 0.25, 0.68, 0.05),
    ExamFamily.XR_FLUORO: (0.05, 0.20, 0.65, 0.10),
    ExamFamily.US_ABDO_PELVIS: (0.12, 0.18, 0.62, 0.08),
    ExamFamily.US_OBSTETRIC: (0.00, 0.15, 0.15, 0.70),
    ExamFamily.US_MSK: (0.01, 0.09, 0.85, 0.05),
    ExamFamily.US_VASCULAR: (0.05, 0.30, 0.55, 0.10),
    ExamFamily.US_PAEDIATRIC: (0.03, 0.25, 0.67, 0.05),
    ExamFamily.CT_PLAIN: (0.10, 0.30, 0.50, 0.10),
    ExamFamily.CT_CONTRAST: (0.18, 0.22, 0.40, 0.20),
    ExamFamily.CT_CARDIAC: (0.01, 0.14, 0.75, 0.10),
    ExamFamily.MR_NEURO: (0.05, 0.15, 0.70, 0.10),
    ExamFamily.MR_MSK: (0.01, 0.07, 0.87, 0.05),
    ExamFamily.MR_BODY: (0.12, 0.18, 0.45, 0.25),
    ExamFamily.MR_CARDIAC: (0.02, 0.15, 0.68, 0.15),
    ExamFamily.MR_PAEDIATRIC: (0.02, 0.15, 0.73, 0.10),
}
PRIORITIES = (Priority.TWO_WEEK_WAIT, Priority.URGENT, Priority.ROUTINE, Priority.PLANNED)
PLANNED_DUE_WEEKS = (4, 13)
"""A planned (surveillance, pregnancy) request falls due 4 to 13 weeks after it is received."""

WEEKLY_DISPERSION_SHAPE = 100.0
FAMILIES = tuple(ExamFamily)


@dataclass(frozen=True)
class Requests:
    """One entry per request, in received order; families, exams and priorities are indices
    into FAMILIES, the exam list and PRIORITIES."""

    day: np.ndarray
    family: np.ndarray
    area: np.ndarray
    exam: np.ndarray
    priority: np.ndarray
    due_day: np.ndarray  # -1 when not planned

    def __len__(self) -> int:
        return len(self.day)


def expected_daily_demand(network: Network, exams: list[ExamType], calendar: HistoryCalendar,
                          scale: float) -> np.ndarray:
    """True mean requests received per [day, family, area] over the history's days."""
    days = calendar.history_days
    areas = _area_weights(network)
    growth = growth_factor(calendar)[:days]
    holiday = calendar.bank_holiday
    mean = np.zeros((days, len(FAMILIES), len(network.demand_areas)))
    for f, family in enumerate(FAMILIES):
        weekly = WEEKLY_REQUESTS * scale * _family_share(family, exams)
        weekday = REFERRAL_WEEKDAY["walk_in" if family is ExamFamily.XR_PLAIN else "referred"]
        shape = np.where(holiday, weekday[6], weekday[calendar.weekday]) * seasonal_factor(
            calendar, family)
        per_day = weekly * shape[:days] / (shape[:364].sum() / 52)
        mean[:, f, :] = (per_day * growth)[:, None] * _deprivation_rate(network, family, areas)
    return mean


def weekly_totals(daily: np.ndarray) -> np.ndarray:
    """Sum a [day, ...] array into [week, ...]."""
    return daily.reshape(daily.shape[0] // 7, 7, *daily.shape[1:]).sum(axis=1)


def sample_requests(daily_mean: np.ndarray, exams: list[ExamType],
                    rng: np.random.Generator) -> Requests:
    weeks = daily_mean.shape[0] // 7
    noise = rng.gamma(WEEKLY_DISPERSION_SHAPE, 1 / WEEKLY_DISPERSION_SHAPE,
                      size=(weeks, *daily_mean.shape[1:]))
    counts = rng.poisson(daily_mean * np.repeat(noise, 7, axis=0))
    cell = np.repeat(np.arange(counts.size, dtype=np.int64), counts.ravel())
    families, areas = daily_mean.shape[1:]
    day, rest = np.divmod(cell, families * areas)
    family, area = np.divmod(rest, areas)
    family = family.astype(np.int16)
    priority = _choose_priority(family, rng)
    due_day = np.where(priority == PRIORITIES.index(Priority.PLANNED),
                       day + 7 * rng.integers(*PLANNED_DUE_WEEKS, size=len(day),
                                              endpoint=True), -1)
    return Requests(day=day.astype(np.int32), family=family, area=area.astype(np.int32),
                    exam=choose_exam(family, exams, rng), priority=priority,
                    due_day=due_day.astype(np.int32))


def choose_exam(family: np.ndarray, exams: list[ExamType],
                rng: np.random.Generator) -> np.ndarray:
    """An exam of each request's family, drawn by the catalogue's relative frequency."""
    weights = np.zeros((len(FAMILIES), len(exams)))
    for e, exam in enumerate(exams):
        weights[FAMILIES.index(exam.family), e] = exam.relative_frequency
    return _draw_rows(weights, family, rng).astype(np.int16)


def _draw_rows(weights: np.ndarray, row: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each entry, a column drawn with the probabilities of its row of `weights`."""
    totals = weights.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(weights / np.where(totals > 0, totals, 1), axis=1)
    cumulative[:, -1] = np.where(totals[:, 0] > 0, 1.0, 0.0)
    offsets = np.arange(len(weights))[:, None]
    flat = (cumulative + offsets).ravel()
    index = np.searchsorted(flat, row + rng.random(len(row)), side="right")
    return np.minimum(index - row * weights.shape[1], weights.shape[1] - 1)


def _choose_priority(family: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    mix = np.array([PRIORITY_MIX[f] for f in FAMILIES])
    return _draw_rows(mix, family, rng).astype(np.int8)


def _family_share(family: ExamFamily, exams: list[ExamType]) -> float:
    offered = {exam.family for exam in exams}
    if family not in offered:
        return 0.0
    siblings = sum(FAMILY_SHARE[f] for f in offered if f.modality is family.modality)
    return MODALITY_SHARE[family.modality] * FAMILY_SHARE[family] / siblings


def _area_weights(network: Network) -> np.ndarray:
    weights = np.array([area.population_weight for area in network.demand_areas])
    return weights / weights.sum()


def _deprivation_rate(network: Network, family: ExamFamily, weights: np.ndarray) -> np.ndarray:
    """Area shares of a family's demand: population × (1 + gradient × deprivation), renormalised."""
    decile = np.array([area.imd_decile for area in network.demand_areas])
    rate = weights * (1 + DEPRIVATION_GRADIENT.get(family, 0.0) * (5.5 - decile) / 4.5)
    return rate / rate.sum()

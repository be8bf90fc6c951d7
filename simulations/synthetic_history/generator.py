"""Generate a synthetic history of a network in memory: demand, patients, appointments and
their outcomes, plus the truth behind them. Pure numpy; one seeded generator drawn in a fixed
order, so the same settings give the same history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from domain.exams import ExamType
from domain.network import Network
from domain.vocabulary import ExamFamily
from simulations.synthetic_history.appointments import (
    MAX_ATTEMPTS,
    Attempts,
    RequestContext,
    first_attempts,
    rebook_attempts,
    rebook_candidates,
)
from simulations.synthetic_history.calendar_effects import (
    HistoryCalendar,
    SiteDays,
    build_calendar,
    site_days,
)
from simulations.synthetic_history.demand import (
    FAMILIES,
    Requests,
    expected_daily_demand,
    sample_requests,
    weekly_totals,
)
from simulations.synthetic_history.dna_risk import (
    DNA_COEFFICIENTS,
    DnaFeatures,
    Outcomes,
    could_be_dna,
    logit_without_history,
    sweep_outcomes,
)
from simulations.synthetic_history.patients import PatientPool, assign_patients, build_pool
from simulations.synthetic_history.sites import (
    MODALITIES,
    SiteChoice,
    modalities_without_rooms,
    site_choice,
)

GENERATOR_VERSION = "1.0"
DEFAULT_START = date(2024, 4, 1)


class HistorySettingsError(ValueError):
    """Settings or inputs the generator cannot work with."""


@dataclass(frozen=True)
class HistorySettings:
    weeks: int
    seed: int
    scale: float = 1.0
    start: date = DEFAULT_START


@dataclass(frozen=True)
class AppointmentRows:
    """Appointments that happened within the history, in file order (booked day, start).
    `patient` indexes the pool; `prior_dna` is the generator's own count, never written."""

    request: np.ndarray
    patient: np.ndarray
    site: np.ndarray
    booked_day: np.ndarray
    start_day: np.ndarray
    start_minute: np.ndarray
    lead_days: np.ndarray
    age_years: np.ndarray
    distance_km: np.ndarray
    channel: np.ndarray
    sms: np.ndarray
    outcome: np.ndarray
    p_dna: np.ndarray
    prior_dna: np.ndarray


@dataclass(frozen=True)
class SyntheticHistory:
    settings: HistorySettings
    network: Network
    exams: list[ExamType]
    calendar: HistoryCalendar
    pool: PatientPool
    patient_number: np.ndarray  # per pool member; -1 if never referred
    requests: Requests
    request_patient: np.ndarray
    appointments: AppointmentRows
    expected_weekly: np.ndarray  # [week, family, area]


StageReporter = Callable[[str], None]


def generate_history(network: Network, exams: list[ExamType], settings: HistorySettings,
                     report: StageReporter = lambda stage: None) -> SyntheticHistory:
    _check_inputs(network, exams, settings)
    rng = np.random.default_rng(settings.seed)
    calendar = build_calendar(settings.start, settings.weeks)
    report("demand")
    daily = expected_daily_demand(network, exams, calendar, settings.scale)
    requests = sample_requests(daily, exams, rng)
    report("patients")
    pool = build_pool(daily.sum(axis=(0, 1)), settings.start.year, rng)
    patient = assign_patients(pool, requests.family, requests.area, settings.start.year, rng)
    report("appointments")
    choice = site_choice(network)
    context = _request_context(requests, exams, pool, patient)
    modality = context.modality
    days = site_days(network, calendar)
    site = choice.draw(modality, requests.area, rng)
    attempts = first_attempts(context, site, days, rng)
    effect = rng.normal(0.0, DNA_COEFFICIENTS.patient_effect_sd, size=len(pool))
    features = _Featurer(network, requests, pool, patient, choice, calendar, effect)
    attempts, base_logit = _lay_out_rebookings(attempts, features, context, days, rng)
    report("outcomes")
    outcomes = sweep_outcomes(attempts, patient[attempts.request], base_logit, len(pool))
    rows = _appointment_rows(attempts, outcomes, features, calendar)
    return SyntheticHistory(
        settings=settings, network=network, exams=exams, calendar=calendar, pool=pool,
        patient_number=_patient_numbers(patient, len(pool), rng), requests=requests,
        request_patient=patient, appointments=rows, expected_weekly=weekly_totals(daily),
    )


def _check_inputs(network: Network, exams: list[ExamType], settings: HistorySettings) -> None:
    if settings.weeks < 1:
        raise HistorySettingsError(f"weeks must be at least 1, not {settings.weeks}")
    if not settings.scale > 0:
        raise HistorySettingsError(f"scale must be positive, not {settings.scale}")
    if settings.start.weekday() != 0:
        raise HistorySettingsError(f"start must be a Monday; {settings.start} is a "
                                   f"{settings.start.strftime('%A')}")
    if not network.demand_areas:
        raise HistorySettingsError("the network has no demand areas")
    missing = modalities_without_rooms(network) & {exam.modality for exam in exams}
    if missing:
        names = ", ".join(sorted(m.value for m in missing))
        raise HistorySettingsError(f"the catalogue has exams but the network no rooms for {names}")


def _request_context(requests: Requests, exams: list[ExamType], pool: PatientPool,
                     patient: np.ndarray) -> RequestContext:
    family_modality = np.array([MODALITIES.index(f.modality) for f in FAMILIES], np.int8)
    notice = np.array([exam.min_notice_days for exam in exams], np.int64)
    return RequestContext(
        received_day=requests.day.astype(np.int64), due_day=requests.due_day.astype(np.int64),
        modality=family_modality[requests.family], priority=requests.priority,
        walk_in_family=requests.family == FAMILIES.index(ExamFamily.XR_PLAIN),
        min_notice_days=notice[requests.exam], patient_age_band=pool.age_band[patient],
    )


class _Featurer:
    """Builds the DNA model's inputs for attempts from request, patient and site facts."""

    def __init__(self, network: Network, requests: Requests, pool: PatientPool,
                 patient: np.ndarray, choice: SiteChoice, calendar: HistoryCalendar,
                 effect: np.ndarray) -> None:
        self.area = requests.area
        self.patient = patient
        self.birth_year = pool.birth_year
        self.effect = effect
        self.distance = choice.distance_km
        self.decile = np.array([a.imd_decile for a in network.demand_areas])
        years = calendar.dates.astype("datetime64[Y]").astype(np.int64) + 1970
        self.year_of_day = np.concatenate((years, [years[-1]]))

    def features(self, attempts: Attempts) -> DnaFeatures:
        area = self.area[attempts.request]
        patient = self.patient[attempts.request]
        return DnaFeatures(
            lead_days=attempts.start_day - attempts.booked_day,
            age_years=self.age_years(attempts),
            imd_decile=self.decile[area],
            distance_km=self.distance_km(attempts),
            weekday=attempts.start_day % 7, start_minute=attempts.start_minute,
            sms=attempts.sms, channel=attempts.channel, patient_effect=self.effect[patient],
        )

    def age_years(self, attempts: Attempts) -> np.ndarray:
        year = self.year_of_day[np.minimum(attempts.start_day, len(self.year_of_day) - 1)]
        return year - self.birth_year[self.patient[attempts.request]]

    def distance_km(self, attempts: Attempts) -> np.ndarray:
        return np.round(self.distance[self.area[attempts.request], attempts.site], 1)


def _lay_out_rebookings(first: Attempts, features: _Featurer, context: RequestContext,
                        days: SiteDays, rng: np.random.Generator) -> tuple[Attempts, np.ndarray]:
    """Every attempt that might happen: a rebooking is laid out whenever its parent could be
    cancelled or DNA'd, whatever the parent's prior DNAs turn out to be."""
    parts, logits, offset = [first], [logit_without_history(features.features(first))], 0
    for _ in range(MAX_ATTEMPTS - 1):
        parents, logit = parts[-1], logits[-1]
        index = rebook_candidates(parents, could_be_dna(parents, logit))
        if len(index) == 0:
            break
        child = rebook_attempts(parents.take(index), index + offset, context, days, rng)
        offset += len(parents)
        parts.append(child)
        logits.append(logit_without_history(features.features(child)))
    return Attempts.concatenate(parts), np.concatenate(logits)


def _appointment_rows(attempts: Attempts, outcomes: Outcomes, features: _Featurer,
                      calendar: HistoryCalendar) -> AppointmentRows:
    keep = np.flatnonzero(outcomes.exists & (attempts.start_day < calendar.history_days))
    order_key = ((attempts.booked_day[keep].astype(np.int64) << 32)
                 | (attempts.start_day[keep].astype(np.int64) << 11)
                 | attempts.start_minute[keep].astype(np.int64))
    keep = keep[np.argsort(order_key, kind="stable")]
    kept = attempts.take(keep)
    return AppointmentRows(
        request=kept.request, patient=features.patient[kept.request], site=kept.site,
        booked_day=kept.booked_day, start_day=kept.start_day, start_minute=kept.start_minute,
        lead_days=kept.start_day - kept.booked_day, age_years=features.age_years(kept),
        distance_km=features.distance_km(kept), channel=kept.channel, sms=kept.sms,
        outcome=outcomes.outcome[keep], p_dna=outcomes.p_dna[keep],
        prior_dna=outcomes.prior_dna[keep],
    )


def _patient_numbers(patient: np.ndarray, pool_size: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Pseudonymous numbers 0..n-1 for the referred pool members, in random order."""
    referred = np.flatnonzero(np.bincount(patient, minlength=pool_size))
    numbers = np.full(pool_size, -1, np.int64)
    numbers[referred] = rng.permutation(len(referred))
    return numbers

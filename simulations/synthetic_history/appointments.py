"""Appointments that might be made for the requests: the first one for every request, and the
rebookings that follow a cancellation or a DNA (at most three per request). Which rebookings
really happen depends on DNA outcomes, decided in `dna_risk`; here every attempt's timing,
site, channel, reminder and pre-drawn chance are laid out.

Waits (received → start): X-ray plain films are mostly walk-ins seen on the day they are
referred (booked and seen the same day); other requests are booked after a short vetting delay
with a log-normal lead time whose median depends on modality and priority (LEAD_MEDIAN_DAYS),
then moved to the next day the site is open — never a bank holiday for routine or planned work."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from domain.vocabulary import ExamFamily, Priority
from simulations.synthetic_history.calendar_effects import SiteDays
from simulations.synthetic_history.demand import PRIORITIES

# Lead time booked → start, median days, per modality (XR, US, CT, MR) and priority (2WW,
# urgent, routine, planned is due-date driven).
LEAD_MEDIAN_DAYS = np.array([
    [3, 3, 7, 0],
    [5, 6, 13, 0],
    [5, 7, 13, 0],
    [7, 10, 20, 0],
], dtype=float)
LEAD_SIGMA = 0.65
MAX_LEAD_DAYS = 180
REBOOK_LEAD_FACTOR = 0.6
VETTING_DELAY_MEAN_DAYS = (0.3, 0.8, 2.5, 1.0)  # per priority, geometric
WALK_IN_SHARE = (0.6, 0.85, 0.85, 0.0)  # XR_PLAIN only, per priority
WALK_IN_SAME_DAY = 0.85
PLANNED_NOTICE_DAYS = (14, 35)

CHANNELS = ("portal", "clerk", "letter")
CHANNEL_MIX = {  # portal, clerk, letter
    "urgent": (0.10, 0.70, 0.20),
    "planned": (0.20, 0.30, 0.50),
    "rebook": (0.15, 0.70, 0.15),
}
ROUTINE_PORTAL_BY_AGE_BAND = (0.35, 0.45, 0.45, 0.30, 0.12, 0.05)
ROUTINE_LETTER = 0.30
SMS_SHARE_UNDER_70, SMS_SHARE_70_PLUS = 0.88, 0.65

HOSPITAL_CANCEL = (0.010, 0.0005)  # base, per lead day (lead capped at 60)
PATIENT_CANCEL = (0.008, 0.0007)
REBOOK_AFTER_DNA = 0.8
MAX_ATTEMPTS = 3

ATTENDED, DNA, CANCELLED_PATIENT, CANCELLED_HOSPITAL = 0, 1, 2, 3
"""Outcome codes, in the order of domain.history.Outcome."""

_WALK_IN_FAMILY = ExamFamily.XR_PLAIN
_URGENT = {PRIORITIES.index(Priority.TWO_WEEK_WAIT), PRIORITIES.index(Priority.URGENT)}
_PLANNED = PRIORITIES.index(Priority.PLANNED)


@dataclass(frozen=True)
class RequestContext:
    """Per-request facts the booking needs (indexed by request)."""

    received_day: np.ndarray
    due_day: np.ndarray
    modality: np.ndarray
    priority: np.ndarray
    walk_in_family: np.ndarray  # bool
    min_notice_days: np.ndarray
    patient_age_band: np.ndarray


@dataclass(frozen=True)
class Attempts:
    """Possible appointments; `parent` is the attempt this one rebooks (-1 for the first)."""

    request: np.ndarray
    attempt: np.ndarray
    parent: np.ndarray
    site: np.ndarray
    booked_day: np.ndarray
    start_day: np.ndarray
    start_minute: np.ndarray
    channel: np.ndarray
    sms: np.ndarray
    cancel: np.ndarray  # 0, CANCELLED_PATIENT or CANCELLED_HOSPITAL if it went that way
    cancel_day: np.ndarray
    dna_draw: np.ndarray  # uniform; DNA when below the DNA probability
    rebook_after_dna: np.ndarray

    def __len__(self) -> int:
        return len(self.request)

    def take(self, index: np.ndarray) -> Attempts:
        return Attempts(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def concatenate(parts: list[Attempts]) -> Attempts:
        return Attempts(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                           for f in fields(Attempts)})


def first_attempts(context: RequestContext, site: np.ndarray, days: SiteDays,
                   rng: np.random.Generator) -> Attempts:
    n = len(context.received_day)
    request = np.arange(n, dtype=np.int64)
    priority = context.priority
    walk_in = context.walk_in_family & (rng.random(n) < np.array(WALK_IN_SHARE)[priority])
    delay = rng.geometric(1 / (1 + np.array(VETTING_DELAY_MEAN_DAYS)[priority])) - 1
    booked = context.received_day + delay
    lead = _lead_days(context, request, 1.0, rng)
    planned = priority == _PLANNED
    target = np.where(planned, context.due_day + rng.integers(-3, 8, size=n), booked + lead)
    notice = rng.integers(*PLANNED_NOTICE_DAYS, size=n, endpoint=True)
    booked = np.where(planned, np.maximum(booked, target - notice), booked)
    target = np.maximum(target, booked + 1)
    walk_day = context.received_day + np.where(rng.random(n) < WALK_IN_SAME_DAY, 0,
                                               rng.integers(1, 4, size=n))
    start = _next_open(days, site, np.where(walk_in, walk_day, target), priority)
    booked = np.where(walk_in, start, booked)
    channel = _channel(context, priority, walk_in, rng)
    return _complete(request, np.ones(n, np.int8), np.full(n, -1, np.int64), site, booked,
                     start, channel, context, days, rng)


def rebook_candidates(parents: Attempts, dna_possible: np.ndarray) -> np.ndarray:
    """Indices of attempts that may need another appointment: cancelled ones, and those that
    could be a DNA (`dna_possible`) and would then be rebooked."""
    maybe = (parents.cancel > 0) | (dna_possible & parents.rebook_after_dna)
    return np.flatnonzero(maybe & (parents.attempt < MAX_ATTEMPTS))


def rebook_attempts(parents: Attempts, parent_index: np.ndarray, context: RequestContext,
                    days: SiteDays, rng: np.random.Generator) -> Attempts:
    """The appointment that would replace each parent: booked when it was cancelled (or a few
    days after a DNA), always starting after the parent's day, at the same site."""
    n = len(parents)
    request = parents.request
    after_dna = parents.start_day + 1 + rng.geometric(1 / 3, size=n) - 1
    booked = np.where(parents.cancel > 0, parents.cancel_day, after_dna)
    lead = _lead_days(context, request, REBOOK_LEAD_FACTOR, rng)
    priority = context.priority[request]
    target = np.maximum(booked + lead, parents.start_day + 1)
    start = _next_open(days, parents.site, target, priority)
    channel = rng.choice(3, size=n, p=CHANNEL_MIX["rebook"]).astype(np.int8)
    return _complete(request, (parents.attempt + 1).astype(np.int8), parent_index,
                     parents.site, booked, start, channel, context, days, rng)


def _complete(request: np.ndarray, attempt: np.ndarray, parent: np.ndarray, site: np.ndarray,
              booked: np.ndarray, start: np.ndarray, channel: np.ndarray,
              context: RequestContext, days: SiteDays, rng: np.random.Generator) -> Attempts:
    """Fill in start time, reminder and the pre-drawn chances of an attempt."""
    n = len(request)
    lead = start - booked
    capped = np.minimum(lead, 60)
    hospital = rng.random(n) < HOSPITAL_CANCEL[0] + HOSPITAL_CANCEL[1] * capped
    patient = rng.random(n) < PATIENT_CANCEL[0] + PATIENT_CANCEL[1] * capped
    cancel = np.where(lead == 0, 0, np.where(hospital, CANCELLED_HOSPITAL,
                                             np.where(patient, CANCELLED_PATIENT, 0)))
    old = context.patient_age_band[request] >= 4
    sms_share = np.where(old, SMS_SHARE_70_PLUS, SMS_SHARE_UNDER_70)
    return Attempts(
        request=request, attempt=attempt, parent=parent, site=site,
        booked_day=booked.astype(np.int32), start_day=start.astype(np.int32),
        start_minute=_start_minute(days, site, start, rng), channel=channel,
        sms=(lead >= 2) & (rng.random(n) < sms_share),
        cancel=cancel.astype(np.int8),
        cancel_day=(booked + np.floor(rng.random(n) * np.maximum(lead, 1))).astype(np.int32),
        dna_draw=rng.random(n), rebook_after_dna=rng.random(n) < REBOOK_AFTER_DNA,
    )


def _lead_days(context: RequestContext, request: np.ndarray, factor: float,
               rng: np.random.Generator) -> np.ndarray:
    median = LEAD_MEDIAN_DAYS[context.modality[request], context.priority[request]] * factor
    drawn = np.rint(np.maximum(median, 1) * rng.lognormal(0.0, LEAD_SIGMA, size=len(request)))
    lead = np.maximum(drawn, np.maximum(context.min_notice_days[request], 1))
    return np.minimum(lead, MAX_LEAD_DAYS).astype(np.int64)


def _next_open(days: SiteDays, site: np.ndarray, day: np.ndarray,
               priority: np.ndarray) -> np.ndarray:
    """The first day on or after `day` the site sees this priority (beyond the horizon: the
    sentinel day count, dropped later)."""
    last = days.next_routine_day.shape[1] - 1
    clipped = np.clip(day, 0, last)
    urgent = np.isin(priority, list(_URGENT))
    routine_day = days.next_routine_day[site, clipped]
    urgent_day = days.next_urgent_day[site, clipped]
    return np.where(day > last, last + 1, np.where(urgent, urgent_day, routine_day))


def _start_minute(days: SiteDays, site: np.ndarray, start: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """A start on a five-minute grid within opening hours, leaving half an hour before close."""
    weekday = start % 7  # day 0 is a Monday
    opens = days.opens_minute[site, weekday]
    closes = days.closes_minute[site, weekday]
    slots = np.maximum((closes - 30 - opens) // 5 + 1, 1)
    minute = opens + 5 * np.floor(rng.random(len(site)) * slots).astype(np.int64)
    return np.maximum(minute, 0).astype(np.int16)


def _channel(context: RequestContext, priority: np.ndarray, walk_in: np.ndarray,
             rng: np.random.Generator) -> np.ndarray:
    """Walk-ins are booked at the desk (clerk); urgent work mostly by phone; routine patients
    book online more when young; planned dates are usually sent by letter."""
    draw = rng.random(len(priority))
    portal = np.array(ROUTINE_PORTAL_BY_AGE_BAND)[context.patient_age_band]
    letter = np.full(len(priority), ROUTINE_LETTER)
    for name, chosen in (("urgent", np.isin(priority, list(_URGENT))),
                         ("planned", priority == _PLANNED)):
        portal = np.where(chosen, CHANNEL_MIX[name][0], portal)
        letter = np.where(chosen, CHANNEL_MIX[name][2], letter)
    channel = np.where(draw < portal, 0, np.where(draw < portal + letter, 2, 1))
    return np.where(walk_in, 1, channel).astype(np.int8)

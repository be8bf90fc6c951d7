"""Who is offered a freed slot first: the candidates the service found eligible (slot rules
and appointability already applied), filtered by what each can take at this notice and
distance, then ranked by clinical need, with every place in the order explained in words a
clerk can read out to a patient or quote in a complaint reply.

Pure: plain records in, a ranked list out. The service gathers candidates (the short-notice
list, patients booked later who said yes to earlier offers, appointable requests not yet
booked), runs the rules, and sends offers in waves of this order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.vocabulary import Priority

PRIORITY_ORDER = (Priority.TWO_WEEK_WAIT, Priority.URGENT, Priority.ROUTINE, Priority.PLANNED)


class CandidateSource(StrEnum):
    SHORT_NOTICE = "short_notice"
    """On the short-notice list: said which days, times, distance and notice suit them."""
    BOOKED_LATER = "booked_later"
    """Booked at a later time and said yes to being offered an earlier one."""
    NOT_BOOKED = "not_booked"
    """Appointable and not booked yet."""


@dataclass(frozen=True)
class FreedSlot:
    slot_id: int
    start: datetime
    """Timezone-aware."""
    site_id: str


@dataclass(frozen=True)
class Candidate:
    request_id: int
    patient_id: int
    source: CandidateSource
    priority: Priority
    referred_on: date
    """The clock start (the request's date)."""
    distance_km: float | None
    """From the patient's home to the slot's site; None when unknown."""
    max_km: float | None = None
    """The furthest the patient said they would travel (short-notice list), if they said."""
    notice_hours: int = 0
    """The least notice the patient said they need."""
    preparation_hours: int = 0
    """The least notice the exam's preparation needs (fasting, bowel preparation...)."""
    booked_start: datetime | None = None
    """The time they are booked for now (BOOKED_LATER)."""
    dna_risk: float | None = None
    """Predicted probability of not attending, if a model scored them."""


@dataclass(frozen=True)
class BackfillPolicy:
    high_dna_risk: float = 0.2
    """From this predicted risk a patient is offered only slots with more notice."""
    high_risk_notice_hours: int = 72
    min_days_sooner: int = 1
    """A booked patient is offered a slot only if it brings them at least this much forward."""
    wave_size: int = 3


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    position: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Excluded:
    candidate: Candidate
    reason: str


@dataclass(frozen=True)
class Ranking:
    """The order of offers for one freed slot, and who was left out and why."""

    slot: FreedSlot
    ranked: tuple[Ranked, ...]
    excluded: tuple[Excluded, ...] = field(default=())

    def waves(self, size: int) -> list[tuple[Ranked, ...]]:
        """The ranked candidates in waves of `size`, best first."""
        return [self.ranked[i:i + size] for i in range(0, len(self.ranked), size)]


def rank_candidates(slot: FreedSlot, candidates: list[Candidate], now: datetime,
                    policy: BackfillPolicy = BackfillPolicy()) -> Ranking:
    """Rank the candidates who can take `slot` at this notice; explain every place."""
    kept, excluded = [], []
    for candidate in candidates:
        refusal = _why_not(slot, candidate, now, policy)
        if refusal is None:
            kept.append(candidate)
        else:
            excluded.append(Excluded(candidate, refusal))
    today = now.date()
    kept.sort(key=lambda c: _sort_key(c, slot, today))
    ranked = tuple(Ranked(c, i + 1, _reasons(c, slot, today)) for i, c in enumerate(kept))
    return Ranking(slot, ranked, tuple(excluded))


def breach_date(candidate: Candidate) -> date:
    """When the request passes its target (6 weeks routine, 2 weeks urgent and 2WW)."""
    return candidate.referred_on + timedelta(days=candidate.priority.target_days)


def _why_not(slot: FreedSlot, candidate: Candidate, now: datetime,
             policy: BackfillPolicy) -> str | None:
    notice = (slot.start - now).total_seconds() / 3600
    needed = max(candidate.notice_hours, candidate.preparation_hours)
    if notice < needed:
        return f"needs {needed} hours' notice; the slot is {notice:.0f} hours away"
    risky = candidate.dna_risk is not None and candidate.dna_risk >= policy.high_dna_risk
    if risky and notice < policy.high_risk_notice_hours:
        return (f"more likely than most to miss an appointment: offered only slots at least "
                f"{policy.high_risk_notice_hours} hours ahead")
    if candidate.max_km is not None and candidate.distance_km is not None \
            and candidate.distance_km > candidate.max_km:
        return (f"{candidate.distance_km:.0f} km away; said up to "
                f"{candidate.max_km:.0f} km")
    if candidate.booked_start is not None and \
            candidate.booked_start - slot.start < timedelta(days=policy.min_days_sooner):
        return "already booked at or near this time"
    return None


def _sort_key(candidate: Candidate, slot: FreedSlot, today: date) -> tuple:
    return (PRIORITY_ORDER.index(candidate.priority),
            (breach_date(candidate) - today).days,
            -(today - candidate.referred_on).days,
            -_days_sooner(candidate, slot),
            candidate.distance_km if candidate.distance_km is not None else float("inf"),
            candidate.request_id)


def _days_sooner(candidate: Candidate, slot: FreedSlot) -> int:
    if candidate.booked_start is None:
        return 0
    return (candidate.booked_start.date() - slot.start.date()).days


def _reasons(candidate: Candidate, slot: FreedSlot, today: date) -> tuple[str, ...]:
    words = {Priority.TWO_WEEK_WAIT: "two-week-wait referral (suspected cancer)",
             Priority.URGENT: "urgent referral", Priority.ROUTINE: "routine referral",
             Priority.PLANNED: "planned test"}
    to_breach = (breach_date(candidate) - today).days
    reasons = [words[candidate.priority],
               f"{-to_breach} days past the {candidate.priority.target_days}-day target"
               if to_breach < 0 else f"{to_breach} days before the "
                                     f"{candidate.priority.target_days}-day target",
               f"waited {(today - candidate.referred_on).days} days"]
    if candidate.booked_start is not None:
        reasons.append(f"would be seen {_days_sooner(candidate, slot)} days sooner")
    else:
        reasons.append({CandidateSource.SHORT_NOTICE: "on the short-notice list",
                        CandidateSource.NOT_BOOKED: "not booked yet"}.get(
            candidate.source, str(candidate.source)))
    if candidate.distance_km is not None:
        reasons.append(f"{candidate.distance_km:.0f} km away")
    return tuple(reasons)

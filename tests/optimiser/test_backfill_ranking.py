"""Ranking the candidates for a freed slot: clinical need first, then the breach date, the
wait, how much sooner, distance; who cannot take it at this notice or distance is left out
with the reason; every place is explained."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.vocabulary import Priority
from optimiser.backfill import (
    BackfillPolicy,
    Candidate,
    CandidateSource,
    FreedSlot,
    breach_date,
    rank_candidates,
)

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
SLOT = FreedSlot(slot_id=1, start=NOW + timedelta(days=3), site_id="S1")


def _candidate(request_id: int, **changes: object) -> Candidate:
    base = Candidate(request_id=request_id, patient_id=request_id,
                     source=CandidateSource.NOT_BOOKED, priority=Priority.ROUTINE,
                     referred_on=date(2026, 11, 1), distance_km=10.0)
    return replace(base, **changes)


def _order(candidates: list[Candidate], **policy: object) -> list[int]:
    ranking = rank_candidates(SLOT, candidates, NOW, BackfillPolicy(**policy))
    return [r.candidate.request_id for r in ranking.ranked]


def test_two_week_wait_comes_before_urgent_before_routine() -> None:
    order = _order([_candidate(1), _candidate(2, priority=Priority.URGENT),
                    _candidate(3, priority=Priority.TWO_WEEK_WAIT)])
    assert order == [3, 2, 1]


def test_within_a_priority_the_nearest_breach_comes_first() -> None:
    order = _order([_candidate(1, referred_on=date(2026, 11, 20)),
                    _candidate(2, referred_on=date(2026, 10, 20))])
    assert order == [2, 1]


def test_equal_need_goes_to_the_nearer_patient() -> None:
    assert _order([_candidate(1, distance_km=30.0), _candidate(2, distance_km=5.0)]) == [2, 1]


def test_a_booked_patient_gains_more_the_more_days_sooner() -> None:
    later = _candidate(1, source=CandidateSource.BOOKED_LATER,
                       booked_start=NOW + timedelta(days=10))
    much_later = _candidate(2, source=CandidateSource.BOOKED_LATER,
                            booked_start=NOW + timedelta(days=30))
    assert _order([later, much_later]) == [2, 1]


@pytest.mark.parametrize(("changes", "reason"), [
    ({"notice_hours": 96}, "needs 96 hours' notice"),
    ({"preparation_hours": 100}, "needs 100 hours' notice"),
    ({"max_km": 5.0}, "said up to 5 km"),
    ({"source": CandidateSource.BOOKED_LATER, "booked_start": SLOT.start},
     "already booked at or near this time"),
    ({"dna_risk": 0.4}, "offered only slots at least 96 hours ahead"),
])
def test_who_cannot_take_the_slot_is_left_out_with_the_reason(
        changes: dict[str, object], reason: str) -> None:
    ranking = rank_candidates(SLOT, [_candidate(1, **changes)], NOW,
                              BackfillPolicy(high_risk_notice_hours=96))
    assert ranking.ranked == ()
    assert reason in ranking.excluded[0].reason


def test_a_high_risk_patient_is_offered_a_slot_with_enough_notice() -> None:
    assert _order([_candidate(1, dna_risk=0.4)], high_risk_notice_hours=48) == [1]


def test_every_place_is_explained_in_words() -> None:
    ranking = rank_candidates(SLOT, [_candidate(1, priority=Priority.TWO_WEEK_WAIT,
                                                referred_on=date(2026, 11, 1))], NOW)
    reasons = ranking.ranked[0].reasons
    assert reasons[0] == "two-week-wait referral (suspected cancer)"
    assert "22 days past the 14-day target" in reasons
    assert "waited 36 days" in reasons and "10 km away" in reasons


def test_breach_date_is_six_weeks_for_routine_and_two_for_two_week_wait() -> None:
    assert breach_date(_candidate(1)) == date(2026, 12, 13)
    assert breach_date(_candidate(1, priority=Priority.TWO_WEEK_WAIT)) == date(2026, 11, 15)


def test_offers_go_in_waves_of_the_ranked_order() -> None:
    ranking = rank_candidates(SLOT, [_candidate(i) for i in range(1, 8)], NOW)
    waves = ranking.waves(3)
    assert [len(w) for w in waves] == [3, 3, 1]
    assert [r.position for w in waves for r in w] == list(range(1, 8))

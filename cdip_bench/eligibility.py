"""How fast one request is filtered against six weeks of network diaries, against the
slot-by-slot reference measured in the same run. Returns figures; printing is the CLI's job."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import numpy as np

from cdip_bench.synthetic_slots import synthetic_diary
from domain.exams import ExamType, exam_catalogue
from domain.network import Network, load_reference_network
from domain.vocabulary import Priority
from slot_rules.eligibility import EligibilityRuleset
from slot_rules.eligibility_scalar import eligible_one_by_one, slot_records
from slot_rules.loading import shipped_slot_eligibility
from slot_rules.slot_request import SlotRequest

FIRST_DAY = date(2027, 1, 4)


def eligibility_benchmark(requests: int = 300, weeks: int = 6, seed: int = 7,
                          baseline_slots: int = 20_000, baseline_requests: int = 5) -> dict:
    """Time single-request filtering over a synthetic diary of the reference network."""
    network = load_reference_network()
    built = time.perf_counter()
    diary = synthetic_diary(network, FIRST_DAY, weeks=weeks, seed=seed)
    build_s = time.perf_counter() - built
    ruleset = shipped_slot_eligibility()
    now = datetime.combine(FIRST_DAY - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    rng = np.random.default_rng(seed)
    varied = [random_request(network, rng, now.date()) for _ in range(requests)]
    ruleset.evaluate(diary.slots, diary.sites, varied[0], now)  # warm caches once
    timings, eligible = [], []
    for request in varied:
        started = time.perf_counter()
        result = ruleset.evaluate(diary.slots, diary.sites, request, now)
        timings.append((time.perf_counter() - started) * 1000)
        eligible.append(int(np.count_nonzero(result.mask)))
    baseline = _baseline(ruleset, diary, varied[:baseline_requests], now, rng, baseline_slots)
    p50 = float(np.percentile(timings, 50))
    return {
        "slots_considered": len(diary.slots), "sites": len(network.sites),
        "rooms": len(network.rooms), "weeks": weeks, "requests": requests,
        "p50_ms": round(p50, 2), "p95_ms": round(float(np.percentile(timings, 95)), 2),
        "max_ms": round(max(timings), 2),
        "median_eligible_slots": int(np.median(eligible)),
        "baseline_ms_per_request": round(baseline["ms_per_request"], 1),
        "speedup_vs_baseline_p50": round(baseline["ms_per_request"] / p50, 1),
        "baseline_sample_slots": baseline["sample"],
        "baseline_agrees_on_sample": baseline["agrees"],
        "table_build_s": round(build_s, 2), "table_mb": round(diary.slots.nbytes / 1e6, 1),
    }


def random_request(network: Network, rng: np.random.Generator, today: date) -> SlotRequest:
    """A plausible request: an exam drawn by how often it is done, a patient from a demand area."""
    exams = list(exam_catalogue().values())
    weights = np.array([e.relative_frequency for e in exams], dtype=float)
    exam: ExamType = exams[rng.choice(len(exams), p=weights / weights.sum())]
    area = network.demand_areas[rng.integers(len(network.demand_areas))]
    priority = list(Priority)[rng.integers(len(Priority))]
    nearby = rng.random() < 0.1
    sites = rng.choice([s.site_id for s in network.sites], size=3, replace=False)
    return SlotRequest.for_exam(
        exam, priority=priority, referral_date=today - timedelta(days=int(rng.integers(0, 10))),
        earliest_date=today + timedelta(days=int(rng.integers(0, 7))) if rng.random() < 0.3
        else None,
        latest_date=today + timedelta(days=int(rng.integers(14, 42))) if rng.random() < 0.5
        else None,
        age_years=int(rng.integers(1, 95)), weight_kg=float(np.clip(rng.normal(80, 25), 3, 240)),
        needs_step_free=bool(rng.random() < 0.1), needs_hoist=bool(rng.random() < 0.03),
        home_lat=area.lat, home_lon=area.lon,
        max_travel_km=float(rng.integers(10, 60)) if rng.random() < 0.7 else None,
        acceptable_sites=frozenset(str(s) for s in sites) if nearby else None)


def _baseline(ruleset: EligibilityRuleset, diary, requests: list[SlotRequest], now: datetime,
              rng: np.random.Generator, sample_size: int) -> dict:
    rows = np.sort(rng.choice(len(diary.slots), size=min(sample_size, len(diary.slots)),
                              replace=False))
    sample = diary.slots.take(rows)
    records = slot_records(sample, diary.sites)
    elapsed, agrees = 0.0, True
    for request in requests:
        started = time.perf_counter()
        one_by_one = eligible_one_by_one(ruleset, records, request, now)
        elapsed += time.perf_counter() - started
        vectorised = ruleset.evaluate(sample, diary.sites, request, now).mask
        agrees = agrees and bool(np.array_equal(vectorised, np.array(one_by_one, dtype=bool)))
    per_slot_ms = elapsed * 1000 / (len(requests) * len(records))
    return {"ms_per_request": per_slot_ms * len(diary.slots), "sample": len(records),
            "agrees": agrees}

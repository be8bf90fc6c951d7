"""Random slot tables and requests for checking the vectorised engine against the reference."""

from datetime import UTC, date, datetime, timedelta

import numpy as np

from domain.vocabulary import Capability, ExamFamily, Modality, Priority
from slot_rules.slot_request import SlotRequest
from slot_rules.slot_table import SiteTable, SlotTable, epoch_minutes


def random_sites(rng: np.random.Generator, count: int = 6) -> SiteTable:
    return SiteTable(site_ids=tuple(f"S{i}" for i in range(count)),
                     lat=rng.uniform(52.0, 53.0, count), lon=rng.uniform(-2.8, -1.3, count),
                     step_free=rng.random(count) < 0.7, hoist=rng.random(count) < 0.4,
                     age_limit_years=np.where(rng.random(count) < 0.3, 16.0, np.inf))


def random_table(rng: np.random.Generator, now: datetime, count: int, sites: int) -> SlotTable:
    """Slots from two days before `now` to eight weeks after, at 5-minute marks."""
    first = epoch_minutes(now) - 2 * 24 * 60
    return SlotTable(
        start_min=first + 5 * rng.integers(0, 60 * 24 * 60 // 5, count),
        length_min=rng.choice([10, 15, 20, 30], count).astype(np.int32),
        site=rng.integers(0, sites, count).astype(np.int16),
        room=rng.integers(0, 40, count).astype(np.int32),
        modality=rng.integers(0, len(Modality), count).astype(np.int8),
        room_capabilities=rng.integers(0, 1 << len(Capability), count).astype(np.uint16),
        room_max_weight_kg=rng.choice([160, 180, 200, 250], count).astype(np.int16),
        template_families=rng.integers(0, 1 << len(ExamFamily), count).astype(np.uint32),
        radiologist_present=rng.random(count) < 0.3,
        free_run_min=rng.choice([0, 10, 20, 30, 45, 60, 90], count).astype(np.int32))


def _maybe(rng: np.random.Generator, share: float, value):
    return value if rng.random() < share else None


def random_request(rng: np.random.Generator, today: date, sites: SiteTable) -> SlotRequest:
    families = list(ExamFamily)
    family = families[rng.integers(len(families))]
    capabilities = [c for c in Capability if rng.random() < 0.15]
    earliest = _maybe(rng, 0.4, today + timedelta(days=int(rng.integers(-3, 20))))
    latest = _maybe(rng, 0.4, today + timedelta(days=int(rng.integers(20, 50))))
    chosen = [s for s in sites.site_ids if rng.random() < 0.5]
    home = rng.random() < 0.7
    return SlotRequest(
        modality=family.modality, family=family, duration_min=int(rng.choice([10, 20, 30, 45])),
        required_capabilities=frozenset(capabilities), contrast=bool(rng.random() < 0.3),
        sedation=bool(rng.random() < 0.1), exam_needs_radiologist=bool(rng.random() < 0.1),
        prep_notice_days=int(rng.choice([0, 0, 2, 7])),
        priority=list(Priority)[rng.integers(len(Priority))],
        referral_date=_maybe(rng, 0.8, today - timedelta(days=int(rng.integers(0, 10)))),
        earliest_date=earliest, latest_date=latest,
        age_years=_maybe(rng, 0.9, int(rng.integers(1, 95))),
        weight_kg=_maybe(rng, 0.8, float(rng.uniform(30, 260))),
        needs_step_free=bool(rng.random() < 0.3), needs_hoist=bool(rng.random() < 0.2),
        home_lat=float(rng.uniform(52.0, 53.0)) if home else None,
        home_lon=float(rng.uniform(-2.8, -1.3)) if home else None,
        max_travel_km=_maybe(rng, 0.6, float(rng.uniform(5, 80))),
        acceptable_sites=frozenset(chosen) if rng.random() < 0.3 else None)


NOW_WINTER = datetime(2027, 1, 11, 9, 30, tzinfo=UTC)
NOW_BEFORE_SPRING_CHANGE = datetime(2027, 3, 20, 14, 0, tzinfo=UTC)
NOW_BEFORE_AUTUMN_CHANGE = datetime(2027, 10, 25, 7, 45, tzinfo=UTC)

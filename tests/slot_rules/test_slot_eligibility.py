"""The vectorised eligibility engine agrees with the slot-by-slot reference and explains itself."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from domain.vocabulary import Capability, ExamFamily, Modality, Priority
from slot_rules.eligibility_scalar import eligible_one_by_one, slot_records
from slot_rules.loading import shipped_slot_eligibility
from slot_rules.overrides import Override, OverrideRefused
from slot_rules.slot_request import SlotRequest, local_midnight_minutes
from slot_rules.slot_table import (
    CAPABILITY_BIT,
    FAMILY_BIT,
    MODALITY_CODE,
    SiteTable,
    SlotTable,
    epoch_minutes,
)
from tests.slot_rules.random_slots import (
    NOW_BEFORE_AUTUMN_CHANGE,
    NOW_BEFORE_SPRING_CHANGE,
    NOW_WINTER,
    random_request,
    random_sites,
    random_table,
)

RULESET = shipped_slot_eligibility()


@pytest.mark.parametrize("now", [NOW_WINTER, NOW_BEFORE_SPRING_CHANGE, NOW_BEFORE_AUTUMN_CHANGE])
def test_mask_equals_the_slot_by_slot_reference_on_random_tables(now):
    rng = np.random.default_rng(20270101)
    sites = random_sites(rng)
    table = random_table(rng, now, 3000, len(sites.site_ids))
    records = slot_records(table, sites)
    eligible_somewhere = 0
    for _ in range(60):
        request = random_request(rng, now.date(), sites)
        mask = RULESET.evaluate(table, sites, request, now).mask
        assert mask.tolist() == eligible_one_by_one(RULESET, records, request, now)
        eligible_somewhere += int(mask.any())
    assert eligible_somewhere > 5  # the comparison is not only over empty masks


def test_mask_equals_the_reference_with_overrides():
    rng = np.random.default_rng(7)
    sites = random_sites(rng)
    table = random_table(rng, NOW_WINTER, 2000, len(sites.site_ids))
    records = slot_records(table, sites)
    overrides = [Override("travel-distance", "clerk", "c1", "patient will travel"),
                 Override("clinical-window", "radiologist", "r1", "clinically safe")]
    for _ in range(30):
        request = random_request(rng, NOW_WINTER.date(), sites)
        mask = RULESET.evaluate(table, sites, request, NOW_WINTER, overrides).mask
        assert mask.tolist() == eligible_one_by_one(RULESET, records, request, NOW_WINTER,
                                                    overrides)


def one_site_table(**columns) -> tuple[SlotTable, SiteTable]:
    """Slots of an MR room taking MR_NEURO, 08:00 local from 18 Jan 2027, overridable per column."""
    count = len(next(iter(columns.values()))) if columns else 3
    start = local_midnight_minutes(date(2027, 1, 18)) + 8 * 60
    base = dict(
        start_min=np.array([start + 24 * 60 * i for i in range(count)], dtype=np.int64),
        length_min=np.full(count, 30, dtype=np.int32), site=np.zeros(count, dtype=np.int16),
        room=np.zeros(count, dtype=np.int32),
        modality=np.full(count, MODALITY_CODE[Modality.MR], dtype=np.int8),
        room_capabilities=np.zeros(count, dtype=np.uint16),
        room_max_weight_kg=np.full(count, 200, dtype=np.int16),
        template_families=np.full(count, FAMILY_BIT[ExamFamily.MR_NEURO], dtype=np.uint32),
        radiologist_present=np.zeros(count, dtype=bool),
        free_run_min=np.full(count, 60, dtype=np.int32))
    sites = SiteTable(("QE",), np.array([52.45]), np.array([-1.94]), np.array([True]),
                      np.array([False]))
    return SlotTable(**{**base, **columns}), sites


MRI = SlotRequest(modality=Modality.MR, family=ExamFamily.MR_NEURO, duration_min=30)
NOW = datetime(2027, 1, 14, 10, 0, tzinfo=UTC)


def eligible(table, sites, request, overrides=()):
    return RULESET.evaluate(table, sites, request, NOW, overrides).mask.tolist()


def test_exam_needing_3t_only_fits_3t_rooms():
    table, sites = one_site_table(room_capabilities=np.array(
        [0, CAPABILITY_BIT[Capability.MR_3T], CAPABILITY_BIT[Capability.CARDIAC]], np.uint16))
    request = replace(MRI, required_capabilities=frozenset({Capability.MR_3T}))
    assert eligible(table, sites, request) == [False, True, False]


def test_heavy_patient_only_fits_rooms_whose_couch_takes_them():
    table, sites = one_site_table(room_max_weight_kg=np.array([180, 200, 250], np.int16))
    assert eligible(table, sites, replace(MRI, weight_kg=210)) == [False, False, True]


def test_child_needs_a_paediatric_room():
    table, sites = one_site_table(room_capabilities=np.array(
        [0, CAPABILITY_BIT[Capability.PAEDIATRIC], 0], np.uint16))
    assert eligible(table, sites, replace(MRI, age_years=6)) == [False, True, False]
    assert eligible(table, sites, replace(MRI, age_years=16)) == [True, True, True]


def test_exam_longer_than_the_free_run_does_not_fit():
    table, sites = one_site_table(free_run_min=np.array([30, 45, 60], np.int32))
    assert eligible(table, sites, replace(MRI, duration_min=45)) == [False, True, True]


def test_contrast_needs_a_radiologist_present():
    table, sites = one_site_table(radiologist_present=np.array([False, True, False]))
    assert eligible(table, sites, replace(MRI, contrast=True)) == [False, True, False]
    assert eligible(table, sites, replace(MRI, sedation=True)) == [False, True, False]


def test_preparation_notice_counts_whole_days_from_today():
    # Slots on 18, 19 and 20 Jan; today is 14 Jan; 5 days' notice means from 19 Jan.
    table, sites = one_site_table()
    assert eligible(table, sites, replace(MRI, prep_notice_days=5)) == [False, True, True]


def test_two_week_wait_deadline_is_fourteen_days_from_referral():
    table, sites = one_site_table()
    request = replace(MRI, priority=Priority.TWO_WEEK_WAIT, referral_date=date(2027, 1, 5))
    assert eligible(table, sites, request) == [True, True, False]


def test_latest_date_includes_the_whole_local_day_across_the_spring_clock_change():
    # 28 Mar 2027 clocks go forward; a slot at 23:30 BST on 29 Mar is 22:30 UTC that day.
    late = epoch_minutes(datetime(2027, 3, 29, 22, 30, tzinfo=UTC))
    after = epoch_minutes(datetime(2027, 3, 29, 23, 30, tzinfo=UTC))  # 00:30 BST on 30 Mar
    table, sites = one_site_table(start_min=np.array([late, after], np.int64))
    request = replace(MRI, latest_date=date(2027, 3, 29))
    assert eligible(table, sites, request) == [True, False]


def test_site_access_and_travel_distance_exclude_sites():
    table, sites = one_site_table()
    assert eligible(table, sites, replace(MRI, needs_hoist=True)) == [False] * 3
    near = replace(MRI, home_lat=52.48, home_lon=-1.90, max_travel_km=10)
    far = replace(MRI, home_lat=52.63, home_lon=-1.13, max_travel_km=10)  # Leicester
    assert eligible(table, sites, near) == [True] * 3
    assert eligible(table, sites, far) == [False] * 3


def children_only_site() -> tuple[SlotTable, SiteTable]:
    """Paediatric MR rooms at a site seeing patients under 16."""
    table, sites = one_site_table(room_capabilities=np.full(
        3, CAPABILITY_BIT[Capability.PAEDIATRIC], np.uint16))
    return table, replace(sites, age_limit_years=SiteTable.age_limits([16]))


def test_a_childrens_hospital_takes_children_and_turns_adults_away_saying_why():
    table, sites = children_only_site()
    assert eligible(table, sites, replace(MRI, age_years=15)) == [True] * 3
    adult = RULESET.evaluate(table, sites, replace(MRI, age_years=16), NOW)
    assert adult.mask.tolist() == [False] * 3
    assert [v.line() for v in adult.explain_slot(0) if not v.passed] == [
        "[FAIL] site-age-range: A children's hospital: not for a patient aged 16"]


def test_sites_without_an_age_limit_take_every_age():
    table, sites = one_site_table()
    with_limits = replace(sites, age_limit_years=SiteTable.age_limits([None]))
    assert eligible(table, sites, replace(MRI, age_years=80)) == [True] * 3
    assert eligible(table, with_limits, replace(MRI, age_years=80)) == [True] * 3


def test_only_a_radiologist_may_send_an_adult_to_a_childrens_hospital():
    table, sites = children_only_site()
    adult = replace(MRI, age_years=17)
    by_radiologist = Override("site-age-range", "radiologist", "r1", "transition clinic")
    assert eligible(table, sites, adult, [by_radiologist]) == [True] * 3
    with pytest.raises(OverrideRefused, match="'site-age-range' refused"):
        eligible(table, sites, adult, [Override("site-age-range", "clerk", "c1", "asked")])


def test_clerk_may_override_travel_distance_but_not_the_weight_limit():
    table, sites = one_site_table()
    far = replace(MRI, home_lat=52.63, home_lon=-1.13, max_travel_km=10)
    travel = Override("travel-distance", "clerk", "c1", "patient will travel")
    assert eligible(table, sites, far, [travel]) == [True] * 3
    with pytest.raises(OverrideRefused, match="'weight-limit' refused"):
        eligible(table, sites, replace(MRI, weight_kg=300),
                 [Override("weight-limit", "clerk", "c1", "will manage")])


def test_failing_counts_and_slot_explanation_name_the_rule_that_turned_a_slot_away():
    table, sites = one_site_table(room_max_weight_kg=np.array([180, 200, 250], np.int16),
                                  free_run_min=np.array([60, 0, 60], np.int32))
    result = RULESET.evaluate(table, sites, replace(MRI, weight_kg=190), NOW)
    assert result.mask.tolist() == [False, False, True]
    assert result.failing_counts["weight-limit"] == 1
    assert result.failing_counts["duration-fits"] == 1
    assert result.failing_counts["modality"] == 0
    failing = [v.line() for v in result.explain_slot(0) if not v.passed]
    assert failing == ["[FAIL] weight-limit: The couch cannot take 190 kg; a bariatric room "
                       "is needed"]
    assert all(v.passed for v in result.explain_slot(2))


def test_rule_not_yet_in_force_is_not_applied():
    table, sites = one_site_table()
    later = replace(RULESET, rules=tuple(
        replace(rule, meta=replace(rule.meta, effective_from=date(2028, 1, 1)))
        if rule.rule_id == "weight-limit" else rule for rule in RULESET.rules))
    heavy = replace(MRI, weight_kg=300)
    assert later.evaluate(table, sites, heavy, NOW).mask.tolist() == [True] * 3
    assert "weight-limit" not in later.evaluate(table, sites, heavy, NOW).failing_counts


def test_slot_in_the_past_is_not_offered():
    table, sites = one_site_table()
    now = datetime.combine(date(2027, 1, 19), datetime.min.time(), tzinfo=UTC)
    mask = RULESET.evaluate(table, sites, MRI, now + timedelta(hours=9)).mask
    assert mask.tolist() == [False, False, True]

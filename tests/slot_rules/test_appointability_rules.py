"""Each shipped appointability rule passes, fails or goes pending on the right facts."""

from datetime import timedelta

import pytest

from slot_rules.appointability import Outcome, Status
from slot_rules.facts import FactError
from slot_rules.loading import shipped_appointability
from tests.slot_rules.facts_for_tests import TODAY, facts

DAY = timedelta(days=1)
RISKY_CONTRAST = {"has_contrast": True, "age_years": 70}

CASES = [
    # rule, changes to the clean facts, expected status
    ("vetting-complete", {}, Status.PASS),
    ("vetting-complete", {"vetting_outcome": "rejected"}, Status.FAIL),
    ("vetting-complete", {"vetting_complete": False}, Status.PENDING),
    ("vetting-complete", {"protocol_assigned": False}, Status.PENDING),
    ("vetting-complete", {"vetting_outcome": None}, Status.PENDING),
    ("contrast-egfr-recent", {**RISKY_CONTRAST, "egfr_date": TODAY - 30 * DAY}, Status.PASS),
    ("contrast-egfr-recent", {**RISKY_CONTRAST, "egfr_date": TODAY - 100 * DAY}, Status.PENDING),
    ("contrast-egfr-recent", RISKY_CONTRAST, Status.PENDING),
    ("contrast-egfr-recent", {"has_contrast": True, "diabetes": True}, Status.PENDING),
    ("contrast-egfr-recent", {"has_contrast": True, "renal_impairment": True}, Status.PENDING),
    ("contrast-egfr-recent", {"has_contrast": True, "age_years": 65}, Status.PASS),
    ("contrast-egfr-recent", {"has_contrast": True, "diabetes": None}, Status.PENDING),
    ("contrast-egfr-recent", {"age_years": 80}, Status.PASS),
    ("contrast-egfr-low", {"has_contrast": True, "egfr_ml_min": 25}, Status.FAIL),
    ("contrast-egfr-low", {"has_contrast": True, "egfr_ml_min": 30}, Status.PASS),
    ("contrast-egfr-low", {"has_contrast": True}, Status.PASS),
    ("mri-safety-questionnaire", {"modality": "MR", "mri_questionnaire_returned": True},
     Status.PASS),
    ("mri-safety-questionnaire", {"modality": "MR", "mri_questionnaire_returned": False},
     Status.PENDING),
    ("mri-safety-questionnaire", {"modality": "MR"}, Status.PENDING),
    ("mri-safety-questionnaire", {"modality": "CT"}, Status.PASS),
    ("mr-unsafe-implant", {"modality": "MR", "mr_unsafe_implant": True}, Status.FAIL),
    ("mr-unsafe-implant", {"modality": "MR", "mr_unsafe_implant": False}, Status.PASS),
    ("mr-unsafe-implant", {"modality": "MR"}, Status.PENDING),
    ("mr-unsafe-implant", {"modality": "US", "mr_unsafe_implant": True}, Status.PASS),
    ("mri-safety-review", {"modality": "MR", "mri_safety_review_needed": True}, Status.FAIL),
    ("mri-safety-review", {"modality": "MR", "mri_safety_review_needed": False}, Status.PASS),
    ("mri-safety-review", {"modality": "MR"}, Status.PASS),
    ("mri-safety-review", {"modality": "CT", "mri_safety_review_needed": True}, Status.PASS),
    ("contrast-reaction", {"has_contrast": True, "contrast_allergy": True}, Status.FAIL),
    ("contrast-reaction", {"has_contrast": True, "contrast_allergy": False}, Status.PASS),
    ("contrast-reaction", {"has_contrast": True}, Status.PASS),
    ("contrast-reaction", {"has_contrast": False, "contrast_allergy": True}, Status.PASS),
    ("metformin-flag", {"has_contrast": True, "metformin": True}, Status.PASS),
    ("metformin-flag", {"has_contrast": True}, Status.PASS),
    ("chaperone-flag", {"chaperone_requested": True}, Status.PASS),
    ("pregnancy-status", {"ionising_pelvis_abdomen": True, "age_years": 30}, Status.PENDING),
    ("pregnancy-status", {"ionising_pelvis_abdomen": True, "age_years": 12}, Status.PENDING),
    ("pregnancy-status", {"ionising_pelvis_abdomen": True, "age_years": 55}, Status.PENDING),
    ("pregnancy-status", {"ionising_pelvis_abdomen": True, "sex": "male"}, Status.PENDING),
    ("pregnancy-status", {"ionising_pelvis_abdomen": True, "pregnancy_status_recorded": True},
     Status.PASS),
    ("pregnancy-status", {"ionising_pelvis_abdomen": True, "age_years": 11}, Status.PASS),
    ("pregnancy-status", {"ionising_pelvis_abdomen": True, "age_years": 56}, Status.PASS),
    ("pregnancy-status", {"ionising_pelvis_abdomen": False}, Status.PASS),
    ("preparation-notice", {"prep_notice_days": 7, "latest_date": TODAY + 10 * DAY}, Status.PASS),
    ("preparation-notice", {"prep_notice_days": 7, "latest_date": TODAY + 7 * DAY}, Status.PASS),
    ("preparation-notice", {"prep_notice_days": 7, "latest_date": TODAY + 6 * DAY}, Status.FAIL),
    ("preparation-notice", {"prep_notice_days": 7}, Status.PASS),
    ("preparation-notice", {"prep_notice_days": None, "latest_date": TODAY}, Status.PENDING),
    ("planned-due-window", {"priority": "planned", "due_date": TODAY + 60 * DAY}, Status.PENDING),
    ("planned-due-window", {"priority": "planned", "due_date": TODAY + 42 * DAY}, Status.PASS),
    ("planned-due-window", {"priority": "planned", "due_date": TODAY - 10 * DAY}, Status.PASS),
    ("planned-due-window", {"priority": "planned"}, Status.PENDING),
    ("planned-due-window", {"priority": "urgent", "due_date": TODAY + 300 * DAY}, Status.PASS),
    ("self-booking-contact", {"self_booking": True}, Status.PENDING),
    ("self-booking-contact", {"self_booking": True, "contact_phone": "  "}, Status.PENDING),
    ("self-booking-contact", {"self_booking": True, "contact_phone": "07700 900123"},
     Status.PASS),
    ("self-booking-contact", {"self_booking": True, "contact_email": "a@example.org"},
     Status.PASS),
    ("interpreter-flag", {"interpreter_needed": True, "interpreter_language": "Polish"},
     Status.PASS),
    ("interpreter-flag", {"interpreter_needed": None}, Status.PASS),
    ("transport-flag", {"transport_needed": True}, Status.PASS),
]


def verdict(rule_id: str, changes: dict):
    result = shipped_appointability().evaluate(facts(**changes), TODAY)
    return next(v for v in result.verdicts if v.rule_id == rule_id)


@pytest.mark.parametrize(("rule_id", "changes", "expected"), CASES)
def test_shipped_rule_gives_the_expected_status(rule_id, changes, expected):
    assert verdict(rule_id, changes).status is expected


def test_every_shipped_rule_is_covered_by_a_case():
    assert {rule.rule_id for rule in shipped_appointability().rules} == {c[0] for c in CASES}


def test_clean_facts_are_appointable():
    result = shipped_appointability().evaluate(facts(), TODAY)
    assert result.outcome is Outcome.APPOINTABLE
    assert all(v.status is Status.PASS for v in result.verdicts)


def test_a_pending_condition_makes_the_request_wait_and_is_listed():
    result = shipped_appointability().evaluate(facts(**RISKY_CONTRAST), TODAY)
    assert result.outcome is Outcome.WAITING
    assert [v.rule_id for v in result.pending] == ["contrast-egfr-recent"]
    assert "eGFR from the last 3 months" in result.pending[0].reason


def test_a_failure_outweighs_a_pending_condition():
    result = shipped_appointability().evaluate(
        facts(modality="MR", mr_unsafe_implant=True), TODAY)
    assert result.outcome is Outcome.NOT_APPOINTABLE
    assert [v.rule_id for v in result.failures] == ["mr-unsafe-implant"]
    assert [v.rule_id for v in result.pending] == ["mri-safety-questionnaire"]


def test_pending_reason_names_the_fact_not_recorded_yet():
    reason = verdict("mr-unsafe-implant", {"modality": "MR"}).reason
    assert "Waiting for: MR-unsafe implant" in reason


def test_flag_rule_notes_the_need_without_blocking():
    result = shipped_appointability().evaluate(
        facts(interpreter_needed=True, interpreter_language="Punjabi", transport_needed=True),
        TODAY)
    assert result.outcome is Outcome.APPOINTABLE
    assert result.notes == (
        "Interpreter needed (language: Punjabi); book one with the appointment",
        "Hospital transport needed; arrange it with the appointment")


def test_reason_shows_dates_as_a_clerk_reads_them():
    reason = verdict("planned-due-window", {"priority": "planned",
                                            "due_date": TODAY + 60 * DAY}).reason
    assert reason.startswith("Planned test due 30 Apr 2027")


def test_explanation_lists_every_rule_under_the_outcome():
    lines = shipped_appointability().evaluate(facts(), TODAY).explanation()
    assert lines[0].startswith("appointable (rules appointability v2026.12.1")
    assert len(lines) == 1 + len(shipped_appointability().rules)
    assert lines[1] == "[PASS] vetting-complete: Vetted and protocolled"


@pytest.mark.parametrize(("bad", "named"), [
    ({"egfr": 40}, "egfr"),
    ({"age_years": "forty"}, "age_years"),
    ({"age_years": True}, "age_years"),
    ({"modality": "PET"}, "modality"),
    ({"egfr_date": "2027-01-01"}, "egfr_date"),
])
def test_facts_of_unknown_name_or_wrong_type_are_refused(bad, named):
    with pytest.raises(FactError, match=f"fact '{named}'"):
        shipped_appointability().evaluate(facts(**bad), TODAY)


def test_rule_not_yet_in_force_gives_no_verdict():
    from dataclasses import replace
    from datetime import date

    ruleset = shipped_appointability()
    later = replace(ruleset, rules=tuple(
        replace(rule, meta=replace(rule.meta, effective_from=date(2030, 1, 1)))
        if rule.rule_id == "vetting-complete" else rule for rule in ruleset.rules))
    result = later.evaluate(facts(vetting_complete=False), TODAY)
    assert result.outcome is Outcome.APPOINTABLE
    assert "vetting-complete" not in {v.rule_id for v in result.verdicts}


def test_metformin_with_contrast_is_a_note_for_the_radiographer():
    result = shipped_appointability().evaluate(facts(has_contrast=True, metformin=True), TODAY)
    assert result.outcome is Outcome.APPOINTABLE
    assert any("metformin" in note for note in result.notes)


def test_a_chaperone_request_is_a_note_for_the_clerk():
    result = shipped_appointability().evaluate(facts(chaperone_requested=True), TODAY)
    assert result.notes == ("The patient asked for a chaperone; book one with the "
                            "appointment",)

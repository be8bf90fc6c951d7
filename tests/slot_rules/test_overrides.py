"""Overrides are data: allowed ones turn a fail or pending into a pass that says who and why;
hard stops hold."""

import pytest

from slot_rules.appointability import Outcome, Status
from slot_rules.loading import shipped_appointability
from slot_rules.overrides import Override, OverrideRefused
from tests.slot_rules.facts_for_tests import TODAY, facts

SELF_BOOKING_NO_CONTACT = facts(self_booking=True)


def evaluate(fact_values, *overrides):
    return shipped_appointability().evaluate(fact_values, TODAY, overrides)


def test_clerk_override_makes_a_pending_rule_pass_and_says_who_and_why():
    override = Override("self-booking-contact", "clerk", "clerk-017", "booked by phone")
    result = evaluate(SELF_BOOKING_NO_CONTACT, override)
    verdict = next(v for v in result.verdicts if v.rule_id == "self-booking-contact")
    assert result.outcome is Outcome.APPOINTABLE
    assert verdict.status is Status.PASS
    assert verdict.override == override
    assert verdict.reason.endswith("overridden by clerk-017 (clerk): booked by phone")
    assert result.overrides_applied == (verdict,)


def test_mr_unsafe_implant_holds_against_every_role():
    mri = facts(modality="MR", mri_questionnaire_returned=True, mr_unsafe_implant=True)
    overrides = [Override("mr-unsafe-implant", role, "staff-1", "patient insists")
                 for role in ("clerk", "radiographer", "radiologist")]
    result = evaluate(mri, *overrides)
    verdict = next(v for v in result.verdicts if v.rule_id == "mr-unsafe-implant")
    assert result.outcome is Outcome.NOT_APPOINTABLE
    assert verdict.status is Status.FAIL
    assert "not applied: this rule is a hard stop; no one may override it" in verdict.reason


def test_clerk_cannot_override_the_questionnaire_hard_stop_but_a_radiologist_can():
    mri = facts(modality="MR", mr_unsafe_implant=False)
    by_clerk = evaluate(mri, Override("mri-safety-questionnaire", "clerk", "c1", "urgent"))
    by_radiologist = evaluate(mri, Override("mri-safety-questionnaire", "radiologist", "r1",
                                            "inpatient screened on the ward"))
    assert by_clerk.outcome is Outcome.WAITING
    assert "a clerk may not override it (it is a hard stop); only: radiologist" in \
        by_clerk.pending[0].reason
    assert by_radiologist.outcome is Outcome.APPOINTABLE


def test_recording_a_refused_override_raises():
    with pytest.raises(OverrideRefused, match="rule 'mr-unsafe-implant' refused"):
        shipped_appointability().check_override(
            Override("mr-unsafe-implant", "radiologist", "r1", "benefit outweighs risk"))


def test_override_of_an_unknown_rule_is_refused():
    with pytest.raises(OverrideRefused, match="no such rule"):
        shipped_appointability().check_override(Override("no-such-rule", "clerk", "c", "why"))


@pytest.mark.parametrize(("role", "by", "reason", "problem"), [
    ("clerk", "c1", "", "an override needs a reason"),
    ("clerk", "c1", "   ", "an override needs a reason"),
    ("clerk", "", "because", "an override must say who made it"),
    ("porter", "p1", "because", "'porter' is not a role that may override"),
])
def test_override_needs_a_reason_an_author_and_a_known_role(role, by, reason, problem):
    with pytest.raises(OverrideRefused, match=problem):
        Override("self-booking-contact", role, by, reason)


def test_override_of_a_passing_rule_changes_nothing_but_is_shown():
    override = Override("self-booking-contact", "clerk", "c1", "booked by phone")
    result = evaluate(facts(self_booking=True, contact_phone="07700 900123"), override)
    verdict = next(v for v in result.verdicts if v.rule_id == "self-booking-contact")
    assert verdict.override is None
    assert "override is recorded but the rule is met without it" in verdict.reason

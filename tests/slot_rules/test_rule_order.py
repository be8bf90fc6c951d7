"""The outcome never depends on the order in which the rules are written or overrides given."""

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from slot_rules.facts import FACTS, Fact, FactType
from slot_rules.loading import shipped_appointability
from slot_rules.overrides import Override, OverrideRole
from tests.slot_rules.facts_for_tests import TODAY

RULESET = shipped_appointability()


def value_of(fact: Fact) -> st.SearchStrategy:
    return {
        FactType.BOOLEAN: st.booleans(),
        FactType.INTEGER: st.integers(0, 100),
        FactType.NUMBER: st.floats(0, 250, allow_nan=False),
        FactType.TEXT: st.sampled_from(["", "07700 900123", "Polish"]),
        FactType.DATE: st.integers(-200, 200).map(lambda d: TODAY + timedelta(days=d)),
        FactType.CHOICE: st.sampled_from(sorted(fact.choices)),
    }[fact.type]


request_facts = st.fixed_dictionaries({}, optional={
    name: value_of(fact) for name, fact in FACTS.items()})
overrides = st.lists(st.builds(
    Override, rule_id=st.sampled_from([r.rule_id for r in RULESET.rules]),
    role=st.sampled_from(list(OverrideRole)), by=st.just("staff-1"),
    reason=st.sampled_from(["clinical need", "booked by phone"])), max_size=4)


@settings(max_examples=300, deadline=None)
@given(facts=request_facts, given_overrides=overrides, data=st.data())
def test_outcome_and_verdicts_do_not_depend_on_rule_order(facts, given_overrides, data):
    shuffled_rules = data.draw(st.permutations(RULESET.rules))
    shuffled_overrides = data.draw(st.permutations(given_overrides))
    shuffled = replace(RULESET, rules=tuple(shuffled_rules))
    on: date = TODAY
    written = RULESET.evaluate(facts, on, given_overrides)
    reordered = shuffled.evaluate(facts, on, shuffled_overrides)
    assert reordered.outcome is written.outcome
    assert sorted(reordered.verdicts, key=lambda v: v.rule_id) == \
        sorted(written.verdicts, key=lambda v: v.rule_id)

"""A bad rule file is refused with a message naming the file, the line and the rule."""

from pathlib import Path

import pytest

from slot_rules.appointability import load_appointability
from slot_rules.eligibility import load_slot_eligibility
from slot_rules.loading import load_rule_file
from slot_rules.yaml_source import RuleFileError

HEADER = """\
ruleset: test
kind: {kind}
version: "1"
effective_from: 2026-11-01
rules:
"""

GOOD_RULE = """\
  - id: {rule_id}
    description: Questionnaire back
    owner: MR safety expert
    effective_from: 2026-11-01
    applies_when: {{fact: modality, eq: MR}}
    require: {{fact: mri_questionnaire_returned, eq: true}}
    messages:
      pending: Waiting for the questionnaire
"""

GOOD_CHECK = """\
  - id: travel
    description: Close enough
    owner: Booking service manager
    effective_from: 2026-11-01
    check: travel_distance
    params: {default_max_km: 40}
    messages:
      fail: Too far
"""


def rule_with(line: str, replaces: str) -> str:
    """The good rule with one line swapped for a bad one (marked so the test knows its line)."""
    rule = GOOD_RULE.format(rule_id="questionnaire")
    assert replaces in rule
    return rule.replace(replaces, line + "  #!")


APPOINTABILITY_CASES = {
    "unknown field": (rule_with("    colour: red", "    owner: MR safety expert"),
                      "unknown field 'colour'"),
    "wrong type": (rule_with("    overridable: maybe", "    owner: MR safety expert"),
                   "field 'overridable' must be true or false, not str 'maybe'"),
    "date not a date": (rule_with("    effective_from: soon",
                                  "    effective_from: 2026-11-01"),
                        "field 'effective_from' must be a date written YYYY-MM-DD"),
    "unknown operator": (rule_with("    require: {fact: mri_questionnaire_returned, is: true}",
                                   "    require: {fact: mri_questionnaire_returned, eq: true}"),
                         "unknown operator 'is'"),
    "unknown fact": (rule_with("    applies_when: {fact: modaliti, eq: MR}",
                               "    applies_when: {fact: modality, eq: MR}"),
                     "unknown fact 'modaliti': no such fact (did you mean 'modality'?)"),
    "value of wrong type": (rule_with("    applies_when: {fact: modality, eq: MRI}",
                                      "    applies_when: {fact: modality, eq: MR}"),
                            "'modality' is one of ['CT', 'MR', 'US', 'XR']; 'MRI' is not"),
    "ordering a yes/no fact": (
        rule_with("    require: {fact: mri_questionnaire_returned, gt: true}",
                  "    require: {fact: mri_questionnaire_returned, eq: true}"),
        "'gt' needs a number or date fact; 'mri_questionnaire_returned' is boolean"),
    "two operators": (
        rule_with("    applies_when: {fact: modality, eq: MR, ne: CT}",
                  "    applies_when: {fact: modality, eq: MR}"),
        "a condition on 'modality' needs exactly one operator, found 2"),
    "message names an unknown fact": (rule_with("      pending: Waiting since {sent_on}",
                                                "      pending: Waiting for the questionnaire"),
                                      "message 'pending' refers to unknown fact 'sent_on'"),
    "hard stop a clerk may override": (
        rule_with("    owner: x\n    hard_stop: true\n    overridable: true\n"
                  "    override_roles: [clerk]",
                  "    owner: MR safety expert"),
        "a hard stop cannot be overridden by a clerk"),
    "missing description": (GOOD_RULE.format(rule_id="questionnaire").replace(
        "    description: Questionnaire back\n", ""), "missing required field 'description'"),
}


def write(tmp_path: Path, kind: str, rules: str) -> tuple[Path, int]:
    text = HEADER.format(kind=kind) + rules
    marked = [n for n, line in enumerate(text.splitlines(), start=1) if line.endswith("#!")]
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace("  #!", ""))
    return path, marked[0] if marked else 0


@pytest.mark.parametrize("case", sorted(APPOINTABILITY_CASES))
def test_bad_appointability_rule_names_file_line_and_rule(tmp_path, case):
    rules, problem = APPOINTABILITY_CASES[case]
    path, line = write(tmp_path, "appointability", rules)
    with pytest.raises(RuleFileError) as caught:
        load_appointability(path)
    error = caught.value
    assert problem in error.problem
    assert (error.path, error.rule_id) == (str(path), "questionnaire")
    if case == "missing description":
        line = 6  # the rule's first line: the field is absent
    assert error.line == line
    assert str(error).startswith(f"{path}, line {line}, rule 'questionnaire': ")


def test_duplicate_rule_id_names_both_lines(tmp_path):
    rules = GOOD_RULE.format(rule_id="same") + GOOD_RULE.format(rule_id="same")
    path, _ = write(tmp_path, "appointability", rules)
    with pytest.raises(RuleFileError) as caught:
        load_appointability(path)
    assert caught.value.line == 14
    assert caught.value.problem == "duplicate rule id 'same' (first used on line 6)"


FILE_CASES = {
    "unknown header field": ("appointability", "author: me\n", 14, "unknown field 'author'"),
    "YAML key given twice": ("appointability", "version: \"2\"\n", 14, "'version' is given twice"),
    "not YAML": ("appointability", "rules: [unclosed\n", None, "not valid YAML"),
    "wrong kind": ("slot_eligibility", "", 2, "this is a 'slot_eligibility' rule file"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_bad_rule_file_header_is_refused_with_its_line(tmp_path, case):
    kind, extra, line, problem = FILE_CASES[case]
    path = tmp_path / "rules.yaml"
    path.write_text(HEADER.format(kind=kind) + GOOD_RULE.format(rule_id="ok") + extra)
    with pytest.raises(RuleFileError) as caught:
        load_appointability(path)
    assert problem in caught.value.problem
    if line is not None:
        assert caught.value.line == line


def check_with(line: str, replaces: str) -> str:
    assert replaces in GOOD_CHECK
    return GOOD_CHECK.replace(replaces, line + "  #!")


ELIGIBILITY_CASES = {
    "unknown check": (check_with("    check: travel_time", "    check: travel_distance"),
                      "unknown check 'travel_time'"),
    "unknown parameter": (check_with("    params: {max_km: 40}",
                                     "    params: {default_max_km: 40}"),
                          "unknown field 'max_km'"),
    "parameter of wrong type": (check_with("    params: {default_max_km: far}",
                                           "    params: {default_max_km: 40}"),
                                "field 'default_max_km' must be a number of km or null"),
    "unknown field": (check_with("    weight: 3", "    owner: Booking service manager"),
                      "unknown field 'weight'"),
    "message names an unknown value": (check_with("      fail: Over {distance} km",
                                                  "      fail: Too far"),
                                       "message 'fail' refers to unknown fact 'distance'"),
}


@pytest.mark.parametrize("case", sorted(ELIGIBILITY_CASES))
def test_bad_eligibility_rule_names_file_line_and_rule(tmp_path, case):
    rules, problem = ELIGIBILITY_CASES[case]
    path, line = write(tmp_path, "slot_eligibility", rules)
    with pytest.raises(RuleFileError) as caught:
        load_slot_eligibility(path)
    assert problem in caught.value.problem
    assert (caught.value.line, caught.value.rule_id) == (line, "travel")


def test_good_files_of_either_kind_load(tmp_path):
    path, _ = write(tmp_path, "slot_eligibility", GOOD_CHECK)
    ruleset = load_rule_file(path)
    assert [rule.rule_id for rule in ruleset.rules] == ["travel"]
    assert ruleset.rules[0].params == {"default_max_km": 40}

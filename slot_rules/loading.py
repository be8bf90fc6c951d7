"""Finding and loading rule files: the shipped rule sets, and any file by its declared kind."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from slot_rules.appointability import AppointabilityRuleset, load_appointability
from slot_rules.eligibility import EligibilityRuleset, load_slot_eligibility
from slot_rules.ruleset_file import peek_kind
from slot_rules.yaml_source import RuleFileError

RULESETS_DIR = Path(__file__).parent / "rulesets"
LOADERS = {"appointability": load_appointability, "slot_eligibility": load_slot_eligibility}


def load_rule_file(path: Path) -> AppointabilityRuleset | EligibilityRuleset:
    """Load any rule file, choosing the loader by its `kind`; RuleFileError if it is bad."""
    kind = peek_kind(path)
    if kind not in LOADERS:
        raise RuleFileError(path, None, None, f"unknown kind '{kind}' (kinds: "
                            f"{', '.join(LOADERS)})")
    return LOADERS[kind](path)


@cache
def shipped_appointability() -> AppointabilityRuleset:
    return load_appointability(RULESETS_DIR / "appointability.yaml")


@cache
def shipped_slot_eligibility() -> EligibilityRuleset:
    return load_slot_eligibility(RULESETS_DIR / "slot_eligibility.yaml")

"""Can this slot take this request? A rule file switches on vectorised checks and sets their
parameters; evaluation runs each over the whole slot table and combines the masks.

The YAML declares which checks are active, who owns them and how they explain a failure; the
checks themselves are numpy predicates in `eligibility_checks` (no interpreter in the loop).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from slot_rules.eligibility_checks import CHECKS, Check, CheckContext
from slot_rules.messages import fill, read_messages
from slot_rules.overrides import Override, OverrideRefused, RuleMeta
from slot_rules.ruleset_file import META_FIELDS, RulesetHeader, read_rule_file, read_rule_meta
from slot_rules.slot_request import SlotRequest
from slot_rules.slot_table import SiteTable, SlotTable
from slot_rules.yaml_source import FieldReader, LocatedMap

KIND = "slot_eligibility"
RULE_FIELDS = META_FIELDS | {"check", "params", "messages"}


@dataclass(frozen=True)
class EligibilityRule:
    meta: RuleMeta
    check: Check
    params: Mapping[str, Any]
    messages: Mapping[str, str]

    @property
    def rule_id(self) -> str:
        return self.meta.rule_id

    def reason(self, request: SlotRequest, passed: bool) -> str:
        values = {f.name: getattr(request, f.name) for f in fields(request)} | dict(self.params)
        return fill(self.messages["pass" if passed else "fail"], values)


@dataclass(frozen=True)
class SlotVerdict:
    rule_id: str
    passed: bool
    reason: str
    override: Override | None = None

    def line(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        suffix = f" — {self.override.describe()}" if self.override else ""
        return f"[{status}] {self.rule_id}: {self.reason}{suffix}"


@dataclass(frozen=True)
class Eligibility:
    """Which slots may take the request, and how many slots each rule turned away."""

    mask: np.ndarray
    failing_counts: Mapping[str, int]
    overridden: Mapping[str, Override]
    ruleset: EligibilityRuleset
    context: CheckContext

    @property
    def slots_considered(self) -> int:
        return len(self.mask)

    @property
    def eligible_rows(self) -> np.ndarray:
        return np.flatnonzero(self.mask)

    def explain_slot(self, row: int) -> list[SlotVerdict]:
        """Every active rule's verdict on one slot, with the clerk-readable reason."""
        one = CheckContext(self.context.table.take([row]), self.context.sites,
                           self.context.request, self.context.now)
        verdicts = []
        for rule in self.ruleset.active_rules(self.context.now):
            passed = bool(np.all(rule.check.predicate(one, rule.params)))
            override = self.overridden.get(rule.rule_id)
            reason = rule.reason(self.context.request, passed)
            verdicts.append(SlotVerdict(rule.rule_id, passed or override is not None, reason,
                                        override if not passed else None))
        return verdicts


@dataclass(frozen=True)
class EligibilityRuleset:
    header: RulesetHeader
    rules: tuple[EligibilityRule, ...]

    def active_rules(self, now: datetime) -> tuple[EligibilityRule, ...]:
        return tuple(rule for rule in self.rules if rule.meta.in_force(now.date()))

    def evaluate(self, table: SlotTable, sites: SiteTable, request: SlotRequest, now: datetime,
                 overrides: Iterable[Override] = ()) -> Eligibility:
        """The eligibility mask of every slot; overrides skip the rules they set aside."""
        overridden = self._permitted(overrides)
        context = CheckContext(table, sites, request, now)
        mask = np.ones(len(table), dtype=bool)
        failing: dict[str, int] = {}
        for rule in self.active_rules(now):
            verdict = rule.check.predicate(context, rule.params)
            if isinstance(verdict, bool | np.bool_):
                failing[rule.rule_id] = 0 if verdict else len(table)
                if not verdict and rule.rule_id not in overridden:
                    mask[:] = False
                continue
            failing[rule.rule_id] = len(table) - int(np.count_nonzero(verdict))
            if rule.rule_id not in overridden:
                mask &= verdict
        return Eligibility(mask, failing, overridden, self, context)

    def _permitted(self, overrides: Iterable[Override]) -> dict[str, Override]:
        by_id = {rule.rule_id: rule for rule in self.rules}
        permitted: dict[str, Override] = {}
        for override in sorted(overrides, key=lambda o: (o.rule_id, o.role, o.by, o.reason)):
            rule = by_id.get(override.rule_id)
            if rule is None:
                raise OverrideRefused(override.rule_id, "no such slot-eligibility rule")
            rule.meta.check_override(override)
            permitted.setdefault(override.rule_id, override)
        return permitted


def load_slot_eligibility(path: Path) -> EligibilityRuleset:
    """Load and validate a slot-eligibility rule file; RuleFileError names file, line, rule."""
    header, readers = read_rule_file(path, KIND)
    return EligibilityRuleset(header, tuple(_read_rule(reader) for reader in readers))


def _read_rule(reader: FieldReader) -> EligibilityRule:
    reader.refuse_unknown_fields(RULE_FIELDS, "slot-eligibility rule")
    meta = read_rule_meta(reader)
    name = reader.required("check", str, "the name of a check")
    if name not in CHECKS:
        raise reader.error("check", f"unknown check '{name}' (checks: {', '.join(CHECKS)})")
    check = CHECKS[name]
    params = _read_params(reader, check)
    placeholders = set(SlotRequest.field_names()) | set(check.params)
    messages = read_messages(reader, {"fail"}, {"pass"}, placeholders)
    messages.setdefault("pass", "Met")
    return EligibilityRule(meta, check, params, messages)


def _read_params(reader: FieldReader, check: Check) -> dict[str, Any]:
    given = reader.optional("params", LocatedMap, "a mapping of parameter to value", None)
    values = {name: param.default for name, param in check.params.items()}
    if given is None:
        return {name: check.params[name].parse(value) for name, value in values.items()}
    sub = FieldReader(reader.path, given, reader.rule_id)
    sub.refuse_unknown_fields(set(check.params), f"'{check.name}' check's params")
    for name, param in check.params.items():
        if name in given:
            sub.optional(name, param.kind, param.describe)
            values[name] = sub.checked(name, param.parse)
        else:
            values[name] = param.parse(values[name])
    return values

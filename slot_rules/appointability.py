"""Is a request appointable? Each rule answers pass, fail or pending with a reason a clerk can
read; the outcome follows from the set of answers alone, never from the order of the rules.

A rule reads: if `applies_when` is false the rule does not apply (pass); if `fail_when` holds the
request cannot be appointed (fail); if `require` does not hold yet we wait for it (pending);
otherwise pass. A fact not recorded yet makes the condition that needs it pending. A `flag` rule
never blocks: when it applies, its pass message is a note for the clerk (interpreter, transport).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path

from slot_rules.conditions import Condition, Truth, fact_labels, parse_condition
from slot_rules.facts import FACTS, check_facts
from slot_rules.messages import fill, read_messages
from slot_rules.overrides import Override, OverrideRefused, RuleMeta
from slot_rules.ruleset_file import META_FIELDS, RulesetHeader, read_rule_file, read_rule_meta
from slot_rules.yaml_source import FieldReader

KIND = "appointability"
CONDITION_FIELDS = ("applies_when", "fail_when", "require")
RULE_FIELDS = META_FIELDS | set(CONDITION_FIELDS) | {"flag", "messages"}


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    PENDING = "pending"


class Outcome(StrEnum):
    APPOINTABLE = "appointable"
    WAITING = "waiting"
    NOT_APPOINTABLE = "not_appointable"


@dataclass(frozen=True)
class AppointabilityRule:
    meta: RuleMeta
    applies_when: Condition | None
    fail_when: Condition | None
    require: Condition | None
    flag: bool
    messages: Mapping[str, str]

    @property
    def rule_id(self) -> str:
        return self.meta.rule_id

    def judge(self, facts: Mapping[str, object], today: date) -> Verdict:
        """This rule's verdict on the facts, before any override."""
        applies = _truth(self.applies_when, facts, today, default=True)
        if applies.value is False:
            return self._verdict(Status.PASS, self._say("not_applicable", facts), applies=False)
        if applies.value is None and self.flag:
            return self._verdict(Status.PASS, f"Not recorded: {fact_labels(applies.missing)}",
                                 applies=False)
        if applies.value is None:
            return self._waiting_for(applies)
        failing = _truth(self.fail_when, facts, today, default=False)
        if failing.value is True:
            return self._verdict(Status.FAIL, self._say("fail", facts))
        if failing.value is None:
            return self._waiting_for(failing)
        required = _truth(self.require, facts, today, default=True)
        if required.value is not True:
            reason = self._say("pending", facts)
            if required.missing:
                reason += f" (not recorded yet: {fact_labels(required.missing)})"
            return self._verdict(Status.PENDING, reason, missing=required.missing)
        return self._verdict(Status.PASS, self._say("pass", facts),
                             note=self._say("pass", facts) if self.flag else None)

    def _say(self, key: str, facts: Mapping[str, object]) -> str:
        default = {"pass": "Met", "not_applicable": "Does not apply"}.get(key, key)
        return fill(self.messages.get(key, default), facts)

    def _waiting_for(self, truth: Truth) -> Verdict:
        reason = f"Waiting for: {fact_labels(truth.missing)} ({self.meta.description})"
        return self._verdict(Status.PENDING, reason, missing=truth.missing)

    def _verdict(self, status: Status, reason: str, *, applies: bool = True,
                 note: str | None = None, missing: frozenset[str] = frozenset()) -> Verdict:
        return Verdict(rule_id=self.rule_id, description=self.meta.description, status=status,
                       reason=reason, applies=applies, hard_stop=self.meta.hard_stop,
                       overridable=self.meta.overridable, note=note, missing=missing)


@dataclass(frozen=True)
class Verdict:
    rule_id: str
    description: str
    status: Status
    reason: str
    applies: bool
    hard_stop: bool
    overridable: bool
    note: str | None = None
    missing: frozenset[str] = frozenset()
    override: Override | None = None

    def line(self) -> str:
        """One line of the clerk's explanation."""
        return f"[{self.status.upper()}] {self.rule_id}: {self.reason}"


@dataclass(frozen=True)
class Appointability:
    outcome: Outcome
    verdicts: tuple[Verdict, ...]
    ruleset: str
    version: str
    evaluated_on: date

    @property
    def pending(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.status is Status.PENDING)

    @property
    def failures(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.status is Status.FAIL)

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(v.note for v in self.verdicts if v.note)

    @property
    def overrides_applied(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.override is not None)

    def explanation(self) -> list[str]:
        """Every rule's verdict and reason, headed by the outcome."""
        head = f"{self.outcome.replace('_', ' ')} (rules {self.ruleset} v{self.version}, " \
               f"evaluated {self.evaluated_on.isoformat()})"
        return [head, *(v.line() for v in self.verdicts)]


@dataclass(frozen=True)
class AppointabilityRuleset:
    header: RulesetHeader
    rules: tuple[AppointabilityRule, ...]

    def rule(self, rule_id: str) -> AppointabilityRule:
        for rule in self.rules:
            if rule.rule_id == rule_id:
                return rule
        raise KeyError(rule_id)

    def check_override(self, override: Override) -> None:
        """Raise OverrideRefused unless this ruleset has the rule and lets this role override."""
        try:
            rule = self.rule(override.rule_id)
        except KeyError:
            raise OverrideRefused(override.rule_id, "no such rule in ruleset "
                                  f"{self.header.name} v{self.header.version}") from None
        rule.meta.check_override(override)

    def evaluate(self, facts: Mapping[str, object], today: date,
                 overrides: Iterable[Override] = ()) -> Appointability:
        """Judge every rule in force on `today`; FactError if a fact is unknown or mistyped."""
        check_facts(facts)
        by_rule: dict[str, list[Override]] = {}
        for override in overrides:
            by_rule.setdefault(override.rule_id, []).append(override)
        verdicts = tuple(
            _apply_overrides(rule, rule.judge(facts, today), by_rule.get(rule.rule_id, []))
            for rule in self.rules if rule.meta.in_force(today))
        return Appointability(outcome=outcome_of(verdicts), verdicts=verdicts,
                              ruleset=self.header.name, version=self.header.version,
                              evaluated_on=today)


def outcome_of(verdicts: Iterable[Verdict]) -> Outcome:
    """Any failure → not appointable; else any pending → waiting; else appointable."""
    statuses = {v.status for v in verdicts}
    if Status.FAIL in statuses:
        return Outcome.NOT_APPOINTABLE
    if Status.PENDING in statuses:
        return Outcome.WAITING
    return Outcome.APPOINTABLE


def load_appointability(path: Path) -> AppointabilityRuleset:
    """Load and validate an appointability rule file; RuleFileError names file, line and rule."""
    header, readers = read_rule_file(path, KIND)
    return AppointabilityRuleset(header, tuple(_read_rule(reader) for reader in readers))


def _read_rule(reader: FieldReader) -> AppointabilityRule:
    reader.refuse_unknown_fields(RULE_FIELDS, "appointability rule")
    meta = read_rule_meta(reader)
    conditions = {key: parse_condition(reader, key) if key in reader.mapping else None
                  for key in CONDITION_FIELDS}
    flag = reader.boolean("flag", False)
    if flag and (conditions["fail_when"] or conditions["require"]):
        raise reader.error("flag", "a flag rule only notes a need; it cannot have "
                           "'fail_when' or 'require'")
    if not flag and not (conditions["fail_when"] or conditions["require"]):
        raise reader.error(None, "a rule needs 'fail_when' or 'require' (or 'flag: true')")
    required = {"fail"} if conditions["fail_when"] else set()
    required |= {"pending"} if conditions["require"] else set()
    required |= {"pass"} if flag else set()
    optional = {"pass", "not_applicable"} - required
    messages = read_messages(reader, required, optional, set(FACTS))
    return AppointabilityRule(meta=meta, flag=flag, messages=messages, **conditions)


def _truth(condition: Condition | None, facts: Mapping[str, object], today: date,
           default: bool) -> Truth:
    return Truth(default) if condition is None else condition.evaluate(facts, today)


def _apply_overrides(rule: AppointabilityRule, verdict: Verdict,
                     overrides: list[Override]) -> Verdict:
    if not overrides:
        return verdict
    ordered = sorted(overrides, key=lambda o: (o.role, o.by, o.reason))
    allowed = [o for o in ordered if rule.meta.refusal(o) is None]
    if verdict.status is Status.PASS:
        return replace(verdict, reason=verdict.reason + " (an override is recorded but the "
                       "rule is met without it)")
    if not allowed:
        first = ordered[0]
        return replace(verdict, reason=verdict.reason + f" (override by {first.by} "
                       f"({first.role}) not applied: {rule.meta.refusal(first)})")
    chosen = allowed[0]
    return replace(verdict, status=Status.PASS, override=chosen,
                   reason=f"{verdict.reason} — {chosen.describe()}")

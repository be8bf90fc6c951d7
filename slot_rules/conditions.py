"""Conditions over a request's facts, in three-valued logic: a condition is true, false, or
unknown because a fact it needs is not recorded yet (unknown is what makes a rule 'pending').

Written in rule files as `{fact: NAME, OPERATOR: OPERAND}` or `{all|any: [...]}`, `{not: ...}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from slot_rules.facts import FACTS, Fact, FactError, FactType, fact_named
from slot_rules.yaml_source import FieldReader, LocatedList, LocatedMap


@dataclass(frozen=True)
class Truth:
    """A condition's value; when unknown, the facts whose absence made it so."""

    value: bool | None
    missing: frozenset[str] = frozenset()


TRUE, FALSE = Truth(True), Truth(False)


@dataclass(frozen=True)
class FactRef:
    """An operand that is another fact's value (e.g. the preparation's notice days)."""

    name: str


@dataclass(frozen=True)
class Operator:
    name: str
    test: Callable[[Any, Any, date], bool]
    takes_list: bool = False
    ordered_only: bool = False
    dates_only: bool = False


def _days_ago_at_most(value: date, days: int, today: date) -> bool:
    return 0 <= (today - value).days <= days


def _days_ahead_at_most(value: date, days: int, today: date) -> bool:
    return (value - today).days <= days


def _days_ahead_at_least(value: date, days: int, today: date) -> bool:
    return (value - today).days >= days


OPERATORS: Mapping[str, Operator] = {op.name: op for op in (
    Operator("eq", lambda v, o, _: v == o),
    Operator("ne", lambda v, o, _: v != o),
    Operator("in", lambda v, o, _: v in o, takes_list=True),
    Operator("not_in", lambda v, o, _: v not in o, takes_list=True),
    Operator("gt", lambda v, o, _: v > o, ordered_only=True),
    Operator("gte", lambda v, o, _: v >= o, ordered_only=True),
    Operator("lt", lambda v, o, _: v < o, ordered_only=True),
    Operator("lte", lambda v, o, _: v <= o, ordered_only=True),
    Operator("days_ago_at_most", _days_ago_at_most, dates_only=True),
    Operator("days_ahead_at_most", _days_ahead_at_most, dates_only=True),
    Operator("days_ahead_at_least", _days_ahead_at_least, dates_only=True),
)}
"""`present` is handled apart: it is the one test that is never unknown."""

COMBINERS = ("all", "any", "not")


@dataclass(frozen=True)
class Comparison:
    fact: str
    operator: str
    operand: Any

    def evaluate(self, facts: Mapping[str, object], today: date) -> Truth:
        value = facts.get(self.fact)
        if self.operator == "present":
            return Truth(_is_present(value) == self.operand)
        operand = self.operand
        missing = set() if value is not None else {self.fact}
        if isinstance(operand, FactRef):
            operand = facts.get(operand.name)
            if operand is None:
                missing.add(self.operand.name)
        if missing:
            return Truth(None, frozenset(missing))
        return Truth(bool(OPERATORS[self.operator].test(value, operand, today)))

    @property
    def facts(self) -> frozenset[str]:
        extra = {self.operand.name} if isinstance(self.operand, FactRef) else set()
        return frozenset({self.fact, *extra})


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]

    def evaluate(self, facts: Mapping[str, object], today: date) -> Truth:
        results = [item.evaluate(facts, today) for item in self.items]
        if any(r.value is False for r in results):
            return FALSE
        return _unknown_or(results, TRUE)

    @property
    def facts(self) -> frozenset[str]:
        return frozenset().union(*(item.facts for item in self.items))


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]

    def evaluate(self, facts: Mapping[str, object], today: date) -> Truth:
        results = [item.evaluate(facts, today) for item in self.items]
        if any(r.value is True for r in results):
            return TRUE
        return _unknown_or(results, FALSE)

    @property
    def facts(self) -> frozenset[str]:
        return frozenset().union(*(item.facts for item in self.items))


@dataclass(frozen=True)
class Not:
    item: Condition

    def evaluate(self, facts: Mapping[str, object], today: date) -> Truth:
        result = self.item.evaluate(facts, today)
        return result if result.value is None else Truth(not result.value)

    @property
    def facts(self) -> frozenset[str]:
        return self.item.facts


Condition = Comparison | AllOf | AnyOf | Not


def parse_condition(reader: FieldReader, key: str) -> Condition:
    """Parse the condition under `key` of the reader's mapping."""
    node = reader.mapping[key]
    if not isinstance(node, LocatedMap):
        raise reader.error(key, f"'{key}' must be a condition (a mapping such as "
                           "{fact: age_years, gte: 65}), not " + type(node).__name__)
    return _parse(FieldReader(reader.path, node, reader.rule_id))


def _parse(reader: FieldReader) -> Condition:
    node = reader.mapping
    combiner = [k for k in node if k in COMBINERS]
    if combiner:
        return _parse_combiner(reader, combiner[0])
    if "fact" not in node:
        raise reader.error(None, "a condition needs 'fact' and an operator, or one of "
                           "'all', 'any', 'not'")
    return _parse_comparison(reader)


def _parse_combiner(reader: FieldReader, name: str) -> Condition:
    if len(reader.mapping) != 1:
        extra = next(k for k in reader.mapping if k != name)
        raise reader.error(extra, f"'{name}' must stand alone in its condition; "
                           f"found '{extra}' beside it")
    if name == "not":
        return Not(parse_condition(reader, name))
    items = reader.mapping[name]
    if not isinstance(items, LocatedList) or not items:
        raise reader.error(name, f"'{name}' must be a non-empty list of conditions")
    parsed = []
    for item in items:
        if not isinstance(item, LocatedMap):
            raise reader.error(name, f"every item of '{name}' must be a condition mapping")
        parsed.append(_parse(FieldReader(reader.path, item, reader.rule_id)))
    return (AllOf if name == "all" else AnyOf)(tuple(parsed))


def _parse_comparison(reader: FieldReader) -> Comparison:
    fact = _known_fact(reader, "fact", reader.mapping["fact"])
    operators = [k for k in reader.mapping if k != "fact"]
    if len(operators) != 1:
        raise reader.error("fact", f"a condition on '{fact.name}' needs exactly one operator, "
                           f"found {len(operators)}")
    name = operators[0]
    if name != "present" and name not in OPERATORS:
        known = ", ".join([*OPERATORS, "present", *COMBINERS])
        raise reader.error(name, f"unknown operator '{name}' (operators: {known})")
    operand = _operand(reader, fact, name)
    return Comparison(fact.name, name, operand)


def _known_fact(reader: FieldReader, key: str, name: object) -> Fact:
    if not isinstance(name, str):
        raise reader.error(key, f"'{key}' must name a fact, not {name!r}")
    try:
        return fact_named(name)
    except FactError as error:
        raise reader.error(key, f"unknown {error}") from None


def _operand(reader: FieldReader, fact: Fact, name: str) -> Any:
    raw = reader.mapping[name]
    if name == "present":
        if not isinstance(raw, bool):
            raise reader.error(name, "'present' takes true or false")
        return raw
    operator = OPERATORS[name]
    if operator.ordered_only and not fact.is_ordered:
        raise reader.error(name, f"'{name}' needs a number or date fact; "
                           f"'{fact.name}' is {fact.type}")
    if operator.dates_only and fact.type is not FactType.DATE:
        raise reader.error(name, f"'{name}' needs a date fact; '{fact.name}' is {fact.type}")
    if isinstance(raw, LocatedMap):
        return _fact_operand(reader, fact, name, raw)
    if operator.takes_list:
        if not isinstance(raw, LocatedList) or not raw:
            raise reader.error(name, f"'{name}' takes a non-empty list of values")
        return frozenset(_literal(reader, fact, name, item) for item in raw)
    if operator.dates_only:
        if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
            raise reader.error(name, f"'{name}' takes a whole number of days, not {raw!r}")
        return raw
    return _literal(reader, fact, name, raw)


def _fact_operand(reader: FieldReader, fact: Fact, name: str, raw: LocatedMap) -> FactRef:
    if set(raw) != {"fact"}:
        raise reader.error(name, f"the operand of '{name}' may be a value or {{fact: NAME}}")
    other = _known_fact(reader, name, raw["fact"])
    wanted = FactType.INTEGER if OPERATORS[name].dates_only else fact.type
    numeric = {FactType.INTEGER, FactType.NUMBER}
    if other.type != wanted and not {other.type, wanted} <= numeric:
        raise reader.error(name, f"'{fact.name}' cannot be compared with '{other.name}' "
                           f"({other.type}) by '{name}'")
    return FactRef(other.name)


def _literal(reader: FieldReader, fact: Fact, name: str, value: object) -> object:
    if value is None or not fact.accepts(value):
        expected = (f"one of {sorted(fact.choices)}" if fact.type is FactType.CHOICE
                    else f"a {fact.type}")
        raise reader.error(name, f"'{fact.name}' is {expected}; {value!r} is not")
    return value


def _is_present(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _unknown_or(results: list[Truth], otherwise: Truth) -> Truth:
    unknown = [r for r in results if r.value is None]
    if not unknown:
        return otherwise
    return Truth(None, frozenset().union(*(r.missing for r in unknown)))


def fact_labels(names: frozenset[str]) -> str:
    """Clerk-readable list of facts, in a stable order."""
    return ", ".join(FACTS[name].label for name in sorted(names))

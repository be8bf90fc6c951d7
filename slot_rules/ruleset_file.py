"""The parts every rule file shares: the header (name, kind, version, effective date) and each
rule's metadata (id, description, owner, effective date, override policy)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from slot_rules.overrides import (
    DEFAULT_HARD_STOP_OVERRIDE_ROLES,
    DEFAULT_OVERRIDE_ROLES,
    OverrideRole,
    RuleMeta,
)
from slot_rules.yaml_source import FieldReader, LocatedList, LocatedMap, read_located_yaml

HEADER_FIELDS = {"ruleset", "kind", "version", "effective_from", "description", "rules"}
META_FIELDS = {"id", "description", "owner", "effective_from", "overridable", "hard_stop",
               "override_roles"}
RULE_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class RulesetHeader:
    name: str
    kind: str
    version: str
    effective_from: date
    description: str
    path: str


def read_rule_file(path: Path, kind: str) -> tuple[RulesetHeader, list[FieldReader]]:
    """The header and one reader per rule (ids checked unique); refuses a file of another kind."""
    path = Path(path)
    reader = FieldReader(path, read_located_yaml(path))
    reader.refuse_unknown_fields(HEADER_FIELDS, "rule file header")
    header = RulesetHeader(
        name=reader.text("ruleset"), kind=reader.text("kind"),
        version=str(reader.required("version", (str, int, float), "a version such as '1.2'")),
        effective_from=reader.day("effective_from"),
        description=reader.text("description", default=""), path=str(path))
    if header.kind != kind:
        raise reader.error("kind", f"this is a '{header.kind}' rule file, expected '{kind}'")
    return header, _rule_readers(reader)


def peek_kind(path: Path) -> str:
    """The `kind` a rule file declares, so a loader can be chosen."""
    reader = FieldReader(Path(path), read_located_yaml(Path(path)))
    return reader.text("kind")


def read_rule_meta(reader: FieldReader) -> RuleMeta:
    overridable = reader.boolean("overridable", False)
    hard_stop = reader.boolean("hard_stop", False)
    meta = RuleMeta(
        rule_id=reader.rule_id or "", description=reader.text("description"),
        owner=reader.text("owner"), effective_from=reader.day("effective_from"),
        overridable=overridable, hard_stop=hard_stop,
        override_roles=_override_roles(reader, overridable, hard_stop), line=reader.mapping.line)
    return meta


def _rule_readers(reader: FieldReader) -> list[FieldReader]:
    rules = reader.required("rules", LocatedList, "a list of rules")
    readers: list[FieldReader] = []
    seen: dict[str, int] = {}
    for item in rules:
        if not isinstance(item, LocatedMap):
            raise reader.error("rules", "every item of 'rules' must be a mapping")
        rule = FieldReader(reader.path, item)
        rule_id = rule.required("id", str, "text")
        if not RULE_ID.match(rule_id):
            raise rule.error("id", f"rule id '{rule_id}' must be lower-case words joined by '-'")
        rule.rule_id = rule_id
        if rule_id in seen:
            raise rule.error("id", f"duplicate rule id '{rule_id}' (first used on line "
                             f"{seen[rule_id]})")
        seen[rule_id] = item.line_of("id")
        readers.append(rule)
    return readers


def _override_roles(reader: FieldReader, overridable: bool,
                    hard_stop: bool) -> frozenset[OverrideRole]:
    if "override_roles" not in reader.mapping:
        if not overridable:
            return frozenset()
        return DEFAULT_HARD_STOP_OVERRIDE_ROLES if hard_stop else DEFAULT_OVERRIDE_ROLES
    raw = reader.required("override_roles", LocatedList, "a list of roles")
    try:
        roles = frozenset(OverrideRole(role) for role in raw)
    except ValueError:
        known = ", ".join(OverrideRole)
        raise reader.error("override_roles", f"override_roles may name only: {known}") from None
    if roles and not overridable:
        raise reader.error("override_roles", "a rule that is not overridable cannot name "
                           "override roles")
    if hard_stop and OverrideRole.CLERK in roles:
        raise reader.error("override_roles", "a hard stop cannot be overridden by a clerk")
    if overridable and not roles:
        raise reader.error("override_roles", "an overridable rule must name at least one role")
    return roles

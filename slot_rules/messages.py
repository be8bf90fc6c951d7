"""Clerk-readable reason templates: `{fact_name}` placeholders filled from a request's facts,
checked against the fact registry when the rule file is loaded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from string import Formatter

from slot_rules.yaml_source import FieldReader, LocatedMap

NOT_RECORDED = "not recorded"


def read_messages(reader: FieldReader, required: set[str], optional: set[str],
                  placeholders: set[str]) -> dict[str, str]:
    """The rule's `messages` mapping; placeholders must be among `placeholders`."""
    if "messages" not in reader.mapping:
        if required:
            raise reader.error(None, f"missing required field 'messages' (needs: "
                               f"{', '.join(sorted(required))})")
        return {}
    node = reader.required("messages", LocatedMap, "a mapping of outcome to text")
    sub = FieldReader(reader.path, node, reader.rule_id)
    sub.refuse_unknown_fields(required | optional, "rule's messages")
    messages = {}
    for key in sorted(required | optional):
        if key in required or key in node:
            messages[key] = sub.text(key)
            _check_placeholders(sub, key, messages[key], placeholders)
    return messages


def fill(template: str, values: Mapping[str, object]) -> str:
    """The template with each placeholder replaced by a readable value."""
    shown = {name: _readable(values.get(name)) for name in _names(template)}
    return template.format_map(shown)


def _check_placeholders(reader: FieldReader, key: str, template: str,
                        allowed: set[str]) -> None:
    try:
        names = _names(template)
    except ValueError as error:
        raise reader.error(key, f"message '{key}' is not a valid template: {error}") from None
    for name in names:
        if name not in allowed:
            raise reader.error(key, f"message '{key}' refers to unknown fact '{name}'")


def _names(template: str) -> list[str]:
    return [name for _, name, _, _ in Formatter().parse(template) if name is not None]


def _readable(value: object) -> str:
    if value is None or value == "":
        return NOT_RECORDED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    return str(value)

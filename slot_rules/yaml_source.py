"""Reading rule files as YAML that remembers where everything came from, so that every
complaint about a rule file names the file, the line and the rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import yaml


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message says where and why."""

    def __init__(self, path: Path | str, line: int | None, rule_id: str | None,
                 problem: str) -> None:
        where = f"{path}" + (f", line {line}" if line is not None else "")
        rule = f", rule '{rule_id}'" if rule_id else ""
        super().__init__(f"{where}{rule}: {problem}")
        self.path = str(path)
        self.line = line
        self.rule_id = rule_id
        self.problem = problem


class LocatedMap(dict):
    """A YAML mapping with the line of the mapping and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    line: int = 0


class _LocatingLoader(yaml.SafeLoader):
    """SafeLoader that builds LocatedMap/LocatedList and refuses duplicate keys."""


def _construct_map(loader: _LocatingLoader, node: yaml.MappingNode):
    located = LocatedMap()
    located.line = node.start_mark.line + 1
    located.key_lines = {}
    yield located
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in located:
            raise _DuplicateKey(line, key)
        located[key] = loader.construct_object(value_node, deep=True)
        located.key_lines[key] = line


def _construct_list(loader: _LocatingLoader, node: yaml.SequenceNode):
    located = LocatedList()
    located.line = node.start_mark.line + 1
    yield located
    located.extend(loader.construct_object(item, deep=True) for item in node.value)


class _DuplicateKey(Exception):
    def __init__(self, line: int, key: object) -> None:
        self.line = line
        self.key = key


_LocatingLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LocatingLoader.add_constructor("tag:yaml.org,2002:seq", _construct_list)


def read_located_yaml(path: Path) -> LocatedMap:
    """The file's top-level mapping; RuleFileError if it is unreadable or not a mapping."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise RuleFileError(path, None, None, f"cannot read the file ({error.strerror})") from error
    try:
        document = yaml.load(text, Loader=_LocatingLoader)  # a SafeLoader: plain data only
    except _DuplicateKey as error:
        raise RuleFileError(path, error.line, None, f"'{error.key}' is given twice") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error)
        raise RuleFileError(path, line, None, f"not valid YAML: {problem}") from error
    if not isinstance(document, LocatedMap):
        raise RuleFileError(path, 1, None, "the file must be a mapping with a 'rules' list")
    return document


class FieldReader:
    """Typed access to one mapping of a rule file, with errors that name file, line and rule."""

    def __init__(self, path: Path, mapping: LocatedMap, rule_id: str | None = None) -> None:
        self.path = path
        self.mapping = mapping
        self.rule_id = rule_id

    def error(self, key: str | None, problem: str) -> RuleFileError:
        line = self.mapping.line_of(key) if key is not None else self.mapping.line
        return RuleFileError(self.path, line, self.rule_id, problem)

    def refuse_unknown_fields(self, allowed: set[str], what: str) -> None:
        for key in self.mapping:
            if key not in allowed:
                raise self.error(key, f"unknown field '{key}' in a {what} "
                                 f"(allowed: {', '.join(sorted(allowed))})")

    def required(self, key: str, kind: type | tuple[type, ...], describe: str) -> Any:
        if key not in self.mapping:
            raise self.error(None, f"missing required field '{key}'")
        return self._typed(key, kind, describe)

    def optional(self, key: str, kind: type | tuple[type, ...], describe: str,
                 default: Any = None) -> Any:
        if key not in self.mapping:
            return default
        return self._typed(key, kind, describe)

    def text(self, key: str, default: str | None = None) -> str:
        if default is None:
            value = self.required(key, str, "text")
        else:
            value = self.optional(key, str, "text", default)
        if not value.strip() and default is None:
            raise self.error(key, f"field '{key}' must not be empty")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        return self.optional(key, bool, "true or false", default)

    def day(self, key: str) -> date:
        return self.required(key, date, "a date written YYYY-MM-DD")

    def checked(self, key: str, check: Callable[[Any], Any]) -> Any:
        """Apply a check that raises ValueError; re-raise it as a located error."""
        try:
            return check(self.mapping[key])
        except ValueError as error:
            raise self.error(key, f"field '{key}': {error}") from None

    def _typed(self, key: str, kind: type | tuple[type, ...], describe: str) -> Any:
        value = self.mapping[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if not isinstance(value, kind) or wrong_bool:
            raise self.error(key, f"field '{key}' must be {describe}, not {_shown(value)}")
        return value


def _shown(value: object) -> str:
    if isinstance(value, LocatedMap):
        return "a mapping"
    if isinstance(value, LocatedList):
        return "a list"
    return f"{type(value).__name__} {value!r}"

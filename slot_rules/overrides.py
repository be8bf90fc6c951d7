"""Overrides as data: who set a rule aside for one request, in what role, and why.

Policy, written into each rule file: an overridable rule names the roles that may override it
(default: clerk, radiographer, radiologist). A hard stop is never overridable by a clerk; a hard
stop may name `radiologist` alone, or no one at all (the MR-unsafe implant rule names no one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class OverrideRole(StrEnum):
    CLERK = "clerk"
    RADIOGRAPHER = "radiographer"
    RADIOLOGIST = "radiologist"


DEFAULT_OVERRIDE_ROLES = frozenset(OverrideRole)
DEFAULT_HARD_STOP_OVERRIDE_ROLES = frozenset({OverrideRole.RADIOLOGIST})


@dataclass(frozen=True)
class Override:
    """One person's decision to set one rule aside for one request."""

    rule_id: str
    role: OverrideRole
    by: str
    """Who: a staff identifier, never a patient's details."""
    reason: str

    def __post_init__(self) -> None:
        if not self.reason or not self.reason.strip():
            raise OverrideRefused(self.rule_id, "an override needs a reason")
        if not self.by or not self.by.strip():
            raise OverrideRefused(self.rule_id, "an override must say who made it")
        try:
            object.__setattr__(self, "role", OverrideRole(self.role))
        except ValueError:
            raise OverrideRefused(self.rule_id, f"'{self.role}' is not a role that may "
                                  f"override (roles: {', '.join(OverrideRole)})") from None

    def describe(self) -> str:
        return f"overridden by {self.by} ({self.role}): {self.reason}"


class OverrideRefused(ValueError):
    """An override that the rule's policy does not allow, or that lacks a reason."""

    def __init__(self, rule_id: str, problem: str) -> None:
        super().__init__(f"override of rule '{rule_id}' refused: {problem}")
        self.rule_id = rule_id


@dataclass(frozen=True)
class RuleMeta:
    """What every rule carries, whatever it checks."""

    rule_id: str
    description: str
    owner: str
    effective_from: date
    overridable: bool
    hard_stop: bool
    override_roles: frozenset[OverrideRole]
    line: int

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on

    def refusal(self, override: Override) -> str | None:
        """Why this override may not apply to this rule, or None if it may."""
        if not self.overridable:
            kind = "a hard stop" if self.hard_stop else "not overridable"
            return f"this rule is {kind}; no one may override it"
        if override.role not in self.override_roles:
            allowed = ", ".join(sorted(self.override_roles))
            return (f"a {override.role} may not override it"
                    + (" (it is a hard stop)" if self.hard_stop else "")
                    + f"; only: {allowed}")
        return None

    def check_override(self, override: Override) -> None:
        """Raise OverrideRefused unless the override is allowed by this rule's policy."""
        refusal = self.refusal(override)
        if refusal is not None:
            raise OverrideRefused(self.rule_id, refusal)

"""Why a patient could not be placed, in words a clerk can act on: the rules that leave no slot
in the neighbourhood (in the rule file's own words), or that every slot the rules allow is taken
and no list could be added."""

from __future__ import annotations

import numpy as np

from optimiser.repair.positions import Candidates
from optimiser.repair.solution import Context


def unplaced_reason(context: Context, appointment_id: int) -> str:
    hood = context.hood
    where = (f"{len(hood.sites)} sites within reach, {min(hood.days):%d %b}–"
             f"{max(hood.days):%d %b}" if hood.days else "no days to re-plan")
    candidates = context.candidates[appointment_id]
    if candidates.verdict is None:
        return f"{candidates.missing or 'nothing to judge'} ({where})"
    if len(candidates.eligible) == 0:
        return f"no slot in the neighbourhood ({where}) passes the rules: " + "; ".join(
            _binding_rules(candidates))
    return (f"all {len(candidates.eligible)} slots that pass the rules in the neighbourhood "
            f"({where}) are taken, and no list could be added (rooms, staff or overtime)")


def _binding_rules(candidates: Candidates) -> list[str]:
    """Rules that alone turn away every slot the other rules allow; else the two that turn
    away most."""
    verdict = candidates.verdict
    context = verdict.context
    rules = [r for r in verdict.ruleset.active_rules(context.now)
             if r.rule_id not in verdict.overridden]
    n = len(context.table)
    masks = []
    for rule in rules:
        mask = rule.check.predicate(context, rule.params)
        masks.append(np.broadcast_to(np.asarray(mask, dtype=bool), (n,)))
    binding = []
    for i, rule in enumerate(rules):
        others = np.ones(n, dtype=bool)
        for j, mask in enumerate(masks):
            if j != i:
                others &= mask
        if others.any():
            binding.append(rule)
    if not binding:
        failing = sorted(range(len(rules)), key=lambda i: int(np.count_nonzero(masks[i])))
        binding = [rules[i] for i in failing[:2]]
    return [f"{rule.rule_id}: {rule.reason(context.request, False)}" for rule in binding]

"""Staff rows of a CP-SAT model for one site-session: the lists that run (some fixed, some
chosen by boolean variables) must be coverable by the site's groups, people per need as integer
flows, with at most `allowed` people missing in all (what the plan was already short by).
Mirrors `staffing.shortfall` exactly: Σ uncovered people ≤ allowed."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from fractions import Fraction

from ortools.sat.python import cp_model

from domain.network import StaffGroup
from domain.session_templates import SessionTemplate
from optimiser.repair.staffing import NeedKey, assign, can_cover, needs_of


def add_staff_rows(model: cp_model.CpModel, groups: Sequence[StaffGroup],
                   available: Sequence[int], allowed: int,
                   fixed: Sequence[SessionTemplate],
                   chosen: Sequence[tuple[cp_model.IntVar, SessionTemplate]],
                   name: str) -> StaffRows:
    """Add the rows; the returned object computes hint values for the flow variables from the
    chosen lists' values, so a caller can give a complete hint."""
    const: dict[NeedKey, Fraction] = defaultdict(Fraction)
    terms: dict[NeedKey, list] = defaultdict(list)
    for template in fixed:
        for key, amount in needs_of(template):
            const[key] += amount
    for var, template in chosen:
        for key, amount in needs_of(template):
            terms[key].append((var, amount, template))
    keys = sorted(set(const) | set(terms), key=lambda k: (k.role, sorted(k.skills), k.lead))
    rows = StaffRows(model, groups, available, name)
    for j, key in enumerate(keys):
        if key.lead:
            rows.lead(j, key, const.get(key, Fraction(0)), terms.get(key, []))
        else:
            rows.crew(j, key, int(const.get(key, 0)), [(v, int(a), t) for v, a, t
                                                       in terms.get(key, [])])
    rows.finish(allowed)
    return rows


class StaffRows:
    def __init__(self, model: cp_model.CpModel, groups, available, name: str) -> None:
        self.model, self.groups, self.available, self.name = model, groups, available, name
        self.by_group: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        self.short: list[cp_model.IntVar] = []
        self.demands: list[tuple[cp_model.IntVar, cp_model.IntVar, list[int], object]] = []

    def _people(self, j: int, key: NeedKey, most: int) -> tuple[cp_model.LinearExpr, list]:
        flows = []
        for g, group in enumerate(self.groups):
            if self.available[g] > 0 and can_cover(key, group):
                z = self.model.new_int_var(0, self.available[g], f"{self.name}_z{j}_{g}")
                self.by_group[g].append(z)
                flows.append((g, z))
        short = self.model.new_int_var(0, max(0, most), f"{self.name}_short{j}")
        self.short.append(short)
        return sum(z for _, z in flows) + short, flows

    def crew(self, j: int, key: NeedKey, const: int, terms: list) -> None:
        most = const + sum(c for _, c, _ in terms)
        people, flows = self._people(j, key, most)
        self.model.add(people >= const + sum(c * v for v, c, _ in terms))
        self._remember(flows, lambda values, cs=const, ts=terms:
                       cs + sum(c * values(v) for v, c, _ in ts))

    def lead(self, j: int, key: NeedKey, const: Fraction, terms: list) -> None:
        shares = [const] + [s for _, s, _ in terms]
        scale = math.lcm(*(s.denominator for s in shares))
        most = math.ceil(const + sum(s for _, s, _ in terms))
        people, flows = self._people(j, key, most)
        self.model.add(scale * people >= int(const * scale)
                       + sum(int(s * scale) * v for v, s, _ in terms))
        self._remember(flows, lambda values, cs=const, ts=terms:
                       math.ceil(cs + sum(s * values(v) for v, s, _ in ts)))

    def _remember(self, flows, demand) -> None:
        self.demands.append((flows, self.short[-1], demand))

    def finish(self, allowed: int) -> None:
        for g, zs in self.by_group.items():
            if len(zs) > 1:
                self.model.add(sum(zs) <= self.available[g])
        self.model.add(sum(self.short) <= allowed)

    def hint(self, values) -> dict[int, int]:
        """Staff flow values (by variable index) for a complete hint: a maximum flow covering
        what the hinted lists need; whatever it cannot cover is short."""
        demands = [max(0, int(demand(values))) for _, _, demand in self.demands]
        edges = [(j, g) for j, (flows, _, _) in enumerate(self.demands) for g, _ in flows]
        flow = assign(demands, edges, [max(0, a) for a in self.available]) if edges else {}
        result = {}
        for j, (flows, short, _) in enumerate(self.demands):
            covered = 0
            for g, z in flows:
                result[z.index] = flow[(j, g)]
                covered += flow[(j, g)]
            result[short.index] = demands[j] - covered
        return result

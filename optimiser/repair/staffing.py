"""Who can staff which lists at a site in one session, before and after the disruption.

A list needs a crew (`crew_per_room` of the template's role with its modality and clinical
skills) and, if radiologist-led, a share of a radiologist (⌈Σ rooms / rooms_per_radiologist⌉ per
skill set). Whether a set of lists can be staffed is a bipartite flow from needs to groups; the
shortfall (people missing) is its deficit, computed exactly by max-flow. Plans made elsewhere may
already be short somewhere; the repair never makes a site-session shorter than it was."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from domain.network import StaffGroup
from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffCalendar
from domain.vocabulary import SessionPeriod, StaffRole
from optimiser.instance import staff_skills_needed
from optimiser.repair.disruption import Effects

SiteSession = tuple[str, date, SessionPeriod]
"""site id, date, period."""


@dataclass(frozen=True)
class NeedKey:
    role: StaffRole
    skills: frozenset[str]
    lead: bool
    """A radiologist leading lists (shared across rooms), not a crew member."""


def crew_need(template: SessionTemplate) -> tuple[NeedKey, int]:
    return NeedKey(template.crew_role, staff_skills_needed(template), False), template.crew_per_room


def lead_need(template: SessionTemplate) -> tuple[NeedKey, Fraction] | None:
    if not template.radiologist_required:
        return None
    key = NeedKey(StaffRole.RADIOLOGIST, staff_skills_needed(template), True)
    return key, Fraction(1, template.rooms_per_radiologist)


def needs_of(template: SessionTemplate) -> list[tuple[NeedKey, Fraction]]:
    """What one list asks of staff: its crew, and its share of a lead radiologist if any."""
    key, count = crew_need(template)
    needs = [(key, Fraction(count))]
    shared = lead_need(template)
    if shared is not None:
        needs.append(shared)
    return needs


def people_needed(templates: Iterable[SessionTemplate]) -> dict[NeedKey, int]:
    """Whole people per need for lists running together in one site-session."""
    total: dict[NeedKey, Fraction] = defaultdict(Fraction)
    for template in templates:
        for key, amount in needs_of(template):
            total[key] += amount
    return {key: math.ceil(amount) for key, amount in total.items()}


def can_cover(need: NeedKey, group: StaffGroup) -> bool:
    return group.role is need.role and need.skills <= group.skills


def shortfall(needs: dict[NeedKey, int], groups: list[StaffGroup],
              available: list[int]) -> int:
    """People missing to cover `needs` from `groups` with `available` staff each (max-flow)."""
    keys = [key for key, n in needs.items() if n > 0]
    demands = [needs[key] for key in keys]
    edges = [(j, g) for j, key in enumerate(keys) for g, group in enumerate(groups)
             if available[g] > 0 and can_cover(key, group)]
    return sum(demands) - sum(assign(demands, edges, available).values())


def assign(demands: list[int], edges: list[tuple[int, int]], available: list[int]
           ) -> dict[tuple[int, int], int]:
    """People on each (need, group) edge in a maximum flow covering `demands` from groups with
    `available` people: augmenting paths (Edmonds–Karp) on a graph of a few dozen nodes,
    where building a sparse matrix for a library max-flow cost more than the flow."""
    flow = dict.fromkeys(edges, 0)
    groups_of: dict[int, list[int]] = defaultdict(list)
    needs_of_group: dict[int, list[int]] = defaultdict(list)
    for j, g in edges:
        groups_of[j].append(g)
        needs_of_group[g].append(j)
    left_need, left_group = list(demands), [max(0, a) for a in available]
    while True:
        path = _augmenting_path(left_need, left_group, groups_of, needs_of_group, flow)
        if path is None:
            return flow
        start, end = path[0][0], path[-1][1]
        amount = min(left_need[start], left_group[end],
                     *(flow[(j, g)] for j, g in path[1::2]))
        for k, (j, g) in enumerate(path):
            flow[(j, g)] += amount if k % 2 == 0 else -amount
        left_need[start] -= amount
        left_group[end] -= amount


def _augmenting_path(left_need, left_group, groups_of, needs_of_group, flow):
    """Shortest path need → group (→ need → group ...) from a need with demand left to a
    group with people left, forward along any edge and back along edges carrying flow; as the
    list of edges walked, alternately forward and back."""
    previous: dict[tuple[str, int], tuple[str, int] | None] = {}
    queue = deque()
    for j, left in enumerate(left_need):
        if left > 0:
            previous[("need", j)] = None
            queue.append(("need", j))
    while queue:
        kind, node = queue.popleft()
        if kind == "need":
            for g in groups_of.get(node, ()):
                if ("group", g) not in previous:
                    previous[("group", g)] = (kind, node)
                    if left_group[g] > 0:
                        return _walk(previous, ("group", g))
                    queue.append(("group", g))
        else:
            for j in needs_of_group.get(node, ()):
                if ("need", j) not in previous and flow[(j, node)] > 0:
                    previous[("need", j)] = (kind, node)
                    queue.append(("need", j))
    return None


def _walk(previous, end) -> list[tuple[int, int]]:
    edges = []
    node = end
    while previous[node] is not None:
        before = previous[node]
        edges.append((before[1], node[1]) if before[0] == "need" else (node[1], before[1]))
        node = before
    return edges[::-1]


class StaffPicture:
    """Available staff per group and session, before and after the disruption."""

    def __init__(self, groups: Iterable[StaffGroup], calendar_rows, effects: Effects,
                 overtime_share: float) -> None:
        self.by_site: dict[str, list[StaffGroup]] = defaultdict(list)
        for group in sorted(groups, key=lambda g: g.staff_group_id):
            self.by_site[group.site_id].append(group)
        self.calendar = StaffCalendar([g for gs in self.by_site.values() for g in gs],
                                      calendar_rows)
        self.effects = effects
        self.overtime_share = overtime_share
        self._cache: dict[tuple[SiteSession, bool], list[int]] = {}

    def groups(self, site_id: str) -> list[StaffGroup]:
        return self.by_site.get(site_id, [])

    def available(self, where: SiteSession, after: bool = True) -> list[int]:
        """People available per group of the site (in `groups` order)."""
        if (where, after) not in self._cache:
            site_id, day, period = where
            before = [self.calendar.available(g.staff_group_id, day, period)
                      for g in self.groups(site_id)]
            self._cache[(where, after)] = self._after(where, before) if after else before
        return self._cache[(where, after)]

    def overtime_budget(self, site_id: str, role: StaffRole) -> int:
        """Person-sessions a week the site's groups of a role may work on added lists."""
        return sum(math.floor(g.sessions_per_week * self.overtime_share)
                   for g in self.groups(site_id) if g.role is role)

    def _after(self, where: SiteSession, before: list[int]) -> list[int]:
        site_id, day, _ = where
        after = list(before)
        groups = self.groups(site_id)
        for role in StaffRole:
            short = self.effects.staff_short.get((site_id, role, day))
            if short is None:
                continue
            members = [g for g, group in enumerate(groups) if group.role is role]
            for g, loss in zip(members, _shares(short[0], [before[g] for g in members]),
                               strict=True):
                after[g] = before[g] - loss
        return after


def _shares(people: int, available: list[int]) -> list[int]:
    """Split a loss of `people` over groups in proportion to who is available (largest
    remainder), never more than a group has."""
    total = sum(available)
    if people >= total:
        return list(available)
    exact = [Fraction(people * a, total) for a in available]
    shares = [math.floor(x) for x in exact]
    order = sorted(range(len(available)), key=lambda g: (-(exact[g] - shares[g]), g))
    for g in order[:people - sum(shares)]:
        shares[g] += 1
    return shares

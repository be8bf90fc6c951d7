"""Replaying the requests that really came against the diaries that were planned: week by
week, every request waiting (and every one received that week) is booked into the week's slots
as well as they can be used — most urgent first (by its clinical target date: two weeks for
urgent and two-week-wait, six for routine, a planned test's due date; then its priority),
within the travel limit, adults never at a children's site, the nearest site when capacity
allows (a min-cost flow per week). What is left at the end is the plan's shortfall.

Counts whole requests (one exam, one slot each); a planned (surveillance) test is booked only
from the week it falls due and counts as unmet or breached only once it is due."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from domain.geography import haversine_km
from domain.network import Network
from domain.session_templates import SessionTemplate
from domain.vocabulary import AgeBand, ExamFamily, Priority
from forecasting.diary_demand import STANDARD_BREACH_DAYS, WaitingRequest
from optimiser.problem import RoomSession

KM_COST = 10
"""Per km of travel; a week of urgency outweighs any journey within the limit."""
URGENCY_WEEKS = 10


@dataclass(frozen=True)
class ReplayResult:
    unmet: int
    """Requests due by the end and still not seen."""
    unmet_by_priority: dict[str, int]
    unmet_by_family: dict[str, int]
    breaches: int
    """Of those, waiting more than six weeks at the end (planned tests excepted, as in DM01)."""
    breaches_two_week_wait: int
    """Two-week-wait requests waiting more than two weeks at the end."""
    served: int
    mean_travel_km: float


def weekly_capacity(sessions: Iterable[RoomSession],
                    templates: Mapping[str, SessionTemplate]) -> dict[tuple[str, str], int]:
    """(site, family) → exam slots in a week's diary."""
    capacity: dict[tuple[str, str], int] = {}
    for session in sessions:
        for family, count in templates[session.template_id].capacity:
            key = (session.site_id, family.value)
            capacity[key] = capacity.get(key, 0) + count
    return capacity


def replay(network: Network, weeks: Sequence[tuple[date, dict[tuple[str, str], int]]],
           requests: Iterable[WaitingRequest], travel_limit_km: float) -> ReplayResult:
    """Book `requests` (the waiting list and every request received in the weeks) into each
    week's capacity in turn; `weeks` are (Monday, capacity) in order."""
    queue = _queue(requests)
    reach = _Reach(network, travel_limit_km)
    travel = 0.0
    for monday, capacity in weeks:
        booked, km = _book_week(queue, monday, capacity, reach)
        queue.loc[booked, "seen"] = True
        travel += km
    end = weeks[-1][0] + timedelta(days=7) if weeks else date.min
    return _result(queue, end, travel)


def _queue(requests: Iterable[WaitingRequest]) -> pd.DataFrame:
    rows = [(r.family.value, r.area_id, r.age_band.value, r.priority.value,
             r.received, _target(r), r.priority is Priority.PLANNED) for r in requests]
    frame = pd.DataFrame(rows, columns=["family", "area_id", "age_band", "priority",
                                        "received", "needed_by", "planned"])
    frame["weight"] = frame["priority"].map({p.value: p.weight for p in Priority})
    frame["needed_week"] = [d - timedelta(days=d.weekday()) for d in frame["needed_by"]]
    frame["seen"] = False
    return frame.sort_values(["needed_by", "received"], kind="stable").reset_index(drop=True)


def _target(request: WaitingRequest) -> date:
    """The clinical target date a booking clerk works to: two weeks for urgent and
    two-week-wait, six weeks for routine, a planned test's due date."""
    if request.priority is Priority.PLANNED and request.due_date is not None:
        return request.due_date
    return request.received + timedelta(days=request.priority.target_days)


class _Reach:
    """Sites each area may be sent to for each age band, with their distances."""

    def __init__(self, network: Network, limit_km: float) -> None:
        self.sites: dict[tuple[str, str], list[tuple[str, float]]] = {}
        for area in network.demand_areas:
            for band in AgeBand:
                self.sites[(area.area_id, band.value)] = [
                    (site.site_id, km) for site in network.sites
                    if site.admits(band)
                    and (km := haversine_km(area.lat, area.lon, site.lat, site.lon)) <= limit_km]


def _book_week(queue: pd.DataFrame, monday: date, capacity: dict[tuple[str, str], int],
               reach: _Reach) -> tuple[np.ndarray, float]:
    """Rows booked this week (most urgent first within each group) and their travel km."""
    end = monday + timedelta(days=7)
    eligible = (~queue["seen"]) & (queue["received"] < end) & (
        ~queue["planned"] | (queue["needed_week"] <= monday))
    rows = queue[eligible]
    if rows.empty:
        return np.zeros(0, dtype=int), 0.0
    weeks_left = ((pd.to_datetime(rows["needed_by"]) - pd.Timestamp(end)).dt.days // 7 + 1)
    bucket = weeks_left.clip(0, URGENCY_WEEKS - 1)
    keys = ["family", "area_id", "age_band", "weight", "bucket"]
    grouped = rows.assign(bucket=bucket).groupby(keys, sort=False)
    groups = grouped.size()
    served = _flow(groups, capacity, reach)
    travel = float(sum(km for _, km in served.values()))
    take = pd.Series({group: count for group, (count, _) in served.items()}, dtype=float)
    rank = grouped.cumcount()
    limit = take.reindex(pd.MultiIndex.from_frame(
        rows.assign(bucket=bucket)[keys])).fillna(0).to_numpy()
    return rows.index[rank.to_numpy() < limit].to_numpy(), travel


def _flow(groups: pd.Series, capacity: dict[tuple[str, str], int],
          reach: _Reach) -> dict[tuple, tuple[int, float]]:
    """Requests booked per group (and their travel km): a min-cost flow from groups to
    site-family slots, where leaving a group waiting costs more the nearer it is to breach
    (and the higher its priority), and a km of travel less than any of that."""
    slot_node = {key: i for i, key in enumerate(capacity)}
    sink = len(slot_node)
    arcs: list[tuple[int, int, int, int]] = []  # tail, head, capacity, cost
    booking_arcs: list[tuple[int, int, float]] = []  # group, arc, km
    for g, ((family, area, band, weight, bucket), count) in enumerate(
            zip(groups.index, groups, strict=True)):
        node = sink + 1 + g
        arcs.append((node, sink, count, 100_000 * (URGENCY_WEEKS - bucket) + 1_000 * weight))
        for site, km in reach.sites.get((area, band), []):
            slot = slot_node.get((site, family))
            if slot is not None:
                booking_arcs.append((g, len(arcs), km))
                arcs.append((node, slot, count, round(km * KM_COST)))
    arcs += [(slot, sink, capacity[key], 0) for key, slot in slot_node.items()]
    tails, heads, caps, costs = (np.array(column, dtype=np.int64) for column in zip(*arcs,
                                                                                    strict=True))
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32),
                                              caps, costs)
    supplies = np.zeros(sink + 1 + len(groups), dtype=np.int64)
    supplies[sink + 1:] = groups.to_numpy()
    supplies[sink] = -int(groups.sum())
    flow.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("the replay's booking flow has no solution; this is a bug")
    served: dict[tuple, tuple[int, float]] = {}
    keys = list(groups.index)
    for g, arc, km in booking_arcs:
        booked = int(flow.flow(arc))
        if booked:
            count, travel = served.get(keys[g], (0, 0.0))
            served[keys[g]] = (count + booked, travel + booked * km)
    return served


def _result(queue: pd.DataFrame, end: date, travel: float) -> ReplayResult:
    due = ~queue["planned"] | (queue["needed_by"] < end)
    waiting = queue[~queue["seen"] & due]
    waited = (pd.Timestamp(end) - pd.to_datetime(waiting["received"])).dt.days
    breaches = int(((waited > STANDARD_BREACH_DAYS) & ~waiting["planned"]).sum())
    two_week = int(((waited > 14) & (waiting["priority"] == Priority.TWO_WEEK_WAIT.value)).sum())
    served = int(queue["seen"].sum())
    return ReplayResult(
        unmet=len(waiting),
        unmet_by_priority={p.value: int((waiting["priority"] == p.value).sum())
                           for p in Priority},
        unmet_by_family={f.value: int((waiting["family"] == f.value).sum())
                         for f in ExamFamily},
        breaches=breaches, breaches_two_week_wait=two_week, served=served,
        mean_travel_km=travel / served if served else 0.0)

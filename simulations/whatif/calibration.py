"""A baseline calibrated to the network's spread of waits: under "each trust books its own",
the trusts' shares waiting 6+ weeks should range as the national return (DM01) shows them,
from a few per cent at the best trust to about half at the worst.

The reference diary cannot show that by itself: it is one plan for one stand-in forecast, so
every trust is loaded alike (and the plan's exam mix leaves some exams without lists). The
calibration changes two things, both as plain numbers a manager can read:

1. **Exam mix.** Each room's slots of a modality are shared among the modality's exams in
   proportion to the demand its trust receives (slot counts; a CT cardiac slot counts as
   one CT slot). Every exam then has lists where its patients are referred.
2. **Capacity per trust.** Every room of a trust runs `capacity` times its lists (the share
   of the planned lists a trust actually staffs: below 1 a trust short of staff, above 1 one
   running extra lists). Trusts are ranked by their load (referrals per slot); the most
   loaded gets the `worst` target share, the least loaded the `best`, the rest in between,
   evenly. Each trust's capacity is found by bisection (share waiting 6+ weeks falls as
   capacity rises), every trust at once in each simulated run, all runs from the same seed.

Given a network's own DM01 figures, pass them as `targets` instead. The calibration holds
for its run length from the reference start (an empty list filling through the warm-up):
compare scenarios over the same weeks."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from simulations.whatif.engine import simulate
from simulations.whatif.inputs import Inputs
from simulations.whatif.replication import ReplicationResult
from simulations.whatif.world import FAMILIES, FAMILY_MODALITY, MODALITIES

BEST_SHARE = 0.03
"""A few per cent waiting 6+ weeks at the best trust (DM01, one recent month)."""
WORST_SHARE = 0.50
"""About half at the worst."""
CAPACITY_BOUNDS = (0.6, 1.6)
SIX_WEEKS = 6

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Calibration:
    trust_ids: tuple[str, ...]
    capacity: tuple[float, ...]
    """Per trust: multiple of its (re-mixed) lists it runs."""
    target: tuple[float, ...]
    achieved: tuple[float, ...]
    """Share waiting 6+ weeks at the end of the calibration's run, per trust."""
    weeks: int
    warmup_weeks: int
    seed: int

    def capacity_by_trust(self) -> dict[str, float]:
        return dict(zip(self.trust_ids, self.capacity, strict=True))


def trust_shares_6_plus(result: ReplicationResult) -> np.ndarray:
    """[T] share of each referring trust's DM01 waiting list waiting 6+ weeks at the end."""
    total = result.census.sum(axis=(1, 2))
    late = result.census[:, :, SIX_WEEKS:].sum(axis=(1, 2))
    return np.where(total > 0, late / np.maximum(total, 1), 0.0)


def trust_family_demand(inputs: Inputs) -> np.ndarray:
    """[T, F] expected referrals a week each trust receives for each exam family."""
    world = inputs.world
    share = np.diff(world.referral_trust_cumulative, axis=1, prepend=0.0)  # [M * A, T]
    family, area = world.cells[:, 0], world.cells[:, 1]
    rows = FAMILY_MODALITY[family].astype(np.int64) * len(world.area_ids) + area
    demand = np.zeros((len(world.trust_ids), len(FAMILIES)))
    np.add.at(demand.T, family, world.weekly_rate[:, None] * share[rows])
    return demand


def trust_load(inputs: Inputs) -> np.ndarray:
    """[T] referrals a week per diary slot of the trust's rooms (first week's plan)."""
    room_trust = inputs.world.site_trust[inputs.room_site]
    slots = np.bincount(room_trust, weights=inputs.plans[inputs.plan_of_week[0]].sum(
        axis=(1, 2)), minlength=len(inputs.world.trust_ids))
    return trust_family_demand(inputs).sum(axis=1) / np.maximum(slots, 1)


def with_capacity(inputs: Inputs, capacity: Mapping[str, float] | np.ndarray, *,
                  remix: bool = True) -> Inputs:
    """`inputs` with each room's lists re-mixed to its trust's demand (not for a diary the
    optimiser planned, whose mix is its own) and scaled by its trust's capacity; whole
    slots, rounded over the week so no share is lost to rounding."""
    world = inputs.world
    if isinstance(capacity, Mapping):
        missing = [t for t in world.trust_ids if t not in capacity]
        if missing:
            raise ValueError(f"capacity: no factor for trust {', '.join(missing)}")
        factor = np.array([capacity[t] for t in world.trust_ids], dtype=float)
    else:
        factor = np.asarray(capacity, dtype=float)
    if factor.shape != (len(world.trust_ids),) or not np.all(factor > 0):
        raise ValueError("capacity: one positive factor per trust is needed")
    room_trust = world.site_trust[inputs.room_site]
    plans = inputs.plans.astype(float)
    if remix:
        plans = _remixed(plans, room_trust, trust_family_demand(inputs), inputs.room_modality)
    plans *= factor[room_trust][None, :, None, None]
    whole = np.floor(np.cumsum(plans, axis=2) + 0.5)
    slots = np.diff(whole, axis=2, prepend=0.0)
    return dataclasses.replace(inputs, plans=slots.astype(np.int16),
                               label=inputs.label + " (calibrated)")


def _remixed(plans: np.ndarray, room_trust: np.ndarray, demand: np.ndarray,
             room_modality: np.ndarray) -> np.ndarray:
    """[P, R, 7, F] each room's slots of its modality shared among the modality's exams as
    its trust's demand is (rooms of a trust with no demand for the modality kept as they are)."""
    for m in range(len(MODALITIES)):
        families = np.flatnonzero(m == FAMILY_MODALITY)
        rooms = np.flatnonzero(room_modality == m)
        wanted = demand[room_trust[rooms]][:, families]  # [rooms, families of m]
        totals = wanted.sum(axis=1)
        rooms, wanted, totals = rooms[totals > 0], wanted[totals > 0], totals[totals > 0]
        mix = wanted / totals[:, None]
        block = plans[:, rooms]
        lists = block[..., families].sum(axis=-1, keepdims=True)  # [P, rooms, 7, 1]
        block[..., families] = lists * mix[None, :, None, :]
        plans[:, rooms] = block
    return plans


def ranked_targets(inputs: Inputs, best: float = BEST_SHARE,
                   worst: float = WORST_SHARE) -> np.ndarray:
    """[T] target shares: the least loaded trust `best`, the most loaded `worst`, evenly."""
    order = np.argsort(trust_load(inputs), kind="stable")
    targets = np.empty(len(order))
    targets[order] = np.linspace(best, worst, len(order))
    return targets


def calibrate(inputs: Inputs, *, targets: Mapping[str, float] | None = None,
              iterations: int = 8, seed: int = 0,
              progress: Progress | None = None) -> Calibration:
    """Capacity per trust giving each trust its target share waiting 6+ weeks at the end of
    `inputs`' run (today's policies: own trust, today's diaries, no backfill)."""
    world = inputs.world
    if not inputs.policies.own_trust:
        raise ValueError("booking: calibrate under own_trust (each trust books its own)")
    if not 1 <= iterations <= 20:
        raise ValueError("iterations: must be 1 to 20")
    goal = (ranked_targets(inputs) if targets is None
            else np.array([targets[t] for t in world.trust_ids], dtype=float))
    if not np.all((goal > 0) & (goal < 1)):
        raise ValueError("targets: every share must be between 0 and 1")
    low = np.full(len(goal), CAPACITY_BOUNDS[0])
    high = np.full(len(goal), CAPACITY_BOUNDS[1])
    for step in range(iterations):
        middle = np.sqrt(low * high)
        shares = trust_shares_6_plus(simulate(with_capacity(inputs, middle), seed))
        too_long = shares > goal
        low = np.where(too_long, middle, low)
        high = np.where(too_long, high, middle)
        if progress:
            progress(step + 1, iterations + 1)
    capacity = np.sqrt(low * high)
    achieved = trust_shares_6_plus(simulate(with_capacity(inputs, capacity), seed))
    if progress:
        progress(iterations + 1, iterations + 1)
    return Calibration(world.trust_ids, tuple(round(float(c), 4) for c in capacity),
                       tuple(float(g) for g in goal), tuple(float(a) for a in achieved),
                       inputs.weeks, inputs.warmup_weeks, seed)

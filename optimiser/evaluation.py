"""One way to score a plan, used for every stage (greedy, LP rounding, CP-SAT) so that their
objectives, and the bound, are measured on the same scale. Scores; never changes a plan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimiser.demand_cells import PRIORITY_WEIGHTS
from optimiser.instance import MODALITIES, Instance
from optimiser.last_week import changed_room_sessions
from optimiser.problem import PlanMetrics


@dataclass
class Solution:
    """A plan over the compiled instance: rooms per option, people per staff flow, exams per
    allocation arc, and unmet exams per demand cell and priority."""

    method: str
    x: np.ndarray
    z: np.ndarray
    w: np.ndarray
    unmet: np.ndarray


def staff_use_per_group(instance: Instance, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(total, daytime) person-sessions per group."""
    total = np.bincount(instance.flow_group, weights=z, minlength=len(instance.groups))
    flow_t = np.array([instance.needs[n].t for n in instance.flow_need], dtype=int)
    daytime_z = np.where(instance.time_offpeak[flow_t], 0, z) if len(z) else z
    daytime = np.bincount(instance.flow_group, weights=daytime_z, minlength=len(instance.groups))
    return total, daytime


def overtime_sessions(instance: Instance, z: np.ndarray) -> np.ndarray:
    total, _ = staff_use_per_group(instance, z)
    return np.maximum(0.0, total - instance.group_contracted)


def imbalance(instance: Instance, unmet: np.ndarray) -> dict:
    """Per modality, the longest projected wait across sites: backlog left at a site (its
    areas' unmet demand) as a share of the weekly demand homed there."""
    cells = instance.demand
    unmet_per_cell = unmet.sum(axis=1)
    result = {}
    for modality in MODALITIES:
        shares = [unmet_per_cell[homed].sum() / demand
                  for _, homed, demand in cells.home_groups(modality)]
        result[modality] = max(shares, default=0.0)
    return result


def metrics(instance: Instance, solution: Solution) -> PlanMetrics:
    weights = instance.weights
    cells = instance.demand
    unmet_cost = float((solution.unmet * PRIORITY_WEIGHTS).sum() * weights.unmet_per_exam)
    imbalance_cost = float(sum(imbalance(instance, solution.unmet).values())
                           * weights.imbalance_per_unit)
    served = float(solution.w.sum())
    travel_km = float((solution.w * cells.arc_km).sum())
    offpeak = instance.option_cost > 0
    overtime = float(overtime_sessions(instance, solution.z).sum())
    changes = changed_room_sessions(instance.last_week, solution.x, instance.option_class_time)
    terms = {
        "unmet": unmet_cost, "imbalance": imbalance_cost,
        "travel": travel_km * weights.travel_per_km,
        "offpeak": float((solution.x * instance.option_cost).sum()),
        "overtime": overtime * weights.overtime_per_staff_session,
        "change": changes * weights.change_per_room_session,
    }
    slots = float((solution.x * option_slots(instance)).sum())
    return PlanMetrics(
        objective=sum(terms.values()), unmet_exams=int(solution.unmet.sum()),
        unmet_cost=terms["unmet"], imbalance_cost=terms["imbalance"],
        travel_cost=terms["travel"], offpeak_cost=terms["offpeak"],
        overtime_cost=terms["overtime"], change_cost=terms["change"],
        mean_travel_km=travel_km / served if served else 0.0,
        offpeak_sessions=int(solution.x[offpeak].sum()),
        room_sessions=int(solution.x.sum()),
        utilisation=served / slots if slots else 0.0,
    )


def option_slots(instance: Instance) -> np.ndarray:
    totals = np.array([t.total_slots for t in instance.templates], dtype=float)
    return totals[instance.option_template]


def site_family_capacity(instance: Instance, x: np.ndarray) -> np.ndarray:
    """[site-family] exams the plan's sessions can take."""
    capacity = np.zeros(len(instance.demand.site_families))
    for sf, entries in enumerate(instance.demand.sf_options):
        capacity[sf] = sum(count * x[option] for option, count in entries)
    return capacity

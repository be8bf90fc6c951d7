"""Plans as points of the network model (`relaxation.NetworkModel`) and back: how the MIP
searches (`site_mip`, `network_mip`) start from a plan and hand one back."""

from __future__ import annotations

import numpy as np

from optimiser.evaluation import Solution, imbalance, staff_use_per_group
from optimiser.instance import MODALITIES, Instance
from optimiser.relaxation import NetworkModel

INTEGRAL = 1e-6
"""A booking or unmet value this close to a whole number is that number."""


def plan_point(inst: Instance, model: NetworkModel, plan: Solution) -> np.ndarray:
    """A plan as a point of the network model: rooms, people, bookings and unmet as they are;
    overtime, the longest waits and the change counts at the values the plan implies."""
    lay = model.layout
    v = np.zeros(lay.total)
    v[lay.x:lay.z] = plan.x
    v[lay.z:lay.o] = plan.z
    total, _ = staff_use_per_group(inst, plan.z.astype(float))
    v[lay.o:lay.w] = np.maximum(0.0, total - inst.group_contracted)
    v[lay.w:lay.u] = plan.w
    v[lay.u:lay.big_w] = plan.unmet.ravel()
    waits = imbalance(inst, plan.unmet)
    v[lay.big_w:lay.e] = [waits[m] for m in MODALITIES]
    last = inst.last_week
    if last.given:
        options = np.asarray(lay.changed_options, dtype=int)
        v[lay.e:lay.f] = np.abs(plan.x[options] - last.option_last[options])
        keys = inst.option_class_time
        for i, key in enumerate(lay.changed_keys):
            v[lay.f + i] = abs(int(plan.x[keys == key].sum()) - last.class_time_open[key])
    return v


def whole_bookings(model: NetworkModel, point: np.ndarray) -> bool:
    """Whether the point's bookings and unmet exams are whole numbers: the model leaves them
    continuous (with whole rooms they nearly always come out whole), a plan needs them whole."""
    lay = model.layout
    bookings = point[lay.w:lay.big_w]
    return bool(np.abs(bookings - np.round(bookings)).max(initial=0.0) <= INTEGRAL)


def point_plan(inst: Instance, model: NetworkModel, point: np.ndarray,
               method: str) -> Solution | None:
    """The plan at a point of a MIP search (rooms and people whole, to HiGHS's tolerance);
    None when its bookings are not whole."""
    if not whole_bookings(model, point):
        return None
    lay = model.layout
    whole = np.round(point)
    return Solution(method, whole[lay.x:lay.z].astype(int), whole[lay.z:lay.o].astype(int),
                    whole[lay.w:lay.u].astype(int),
                    whole[lay.u:lay.big_w].reshape(inst.demand.counts.shape).astype(int))

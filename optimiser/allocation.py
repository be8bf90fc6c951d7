"""Best booking of demand into a fixed set of sessions: a min-cost flow (whole exams) that
minimises priority-weighted unmet demand plus travel. Used to finish the LP-rounded plan."""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from optimiser.demand_cells import PRIORITY_WEIGHTS
from optimiser.evaluation import site_family_capacity
from optimiser.instance import Instance

COST_SCALE = 10
"""Costs are whole numbers in the flow solver: points × 10 keeps 0.01 km resolution."""


def best_allocation(instance: Instance, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(exams per arc, unmet per cell and priority) for the sessions in x."""
    cells = instance.demand
    wt = instance.weights
    n_cells, n_priorities = cells.counts.shape
    n_sf = len(cells.site_families)
    # nodes: cell-priority supplies, cell hubs, site-family nodes, one sink
    supply_node = np.arange(n_cells * n_priorities)
    hub = n_cells * n_priorities + np.arange(n_cells)
    sf_node = hub[-1] + 1 + np.arange(n_sf) if n_cells else np.arange(n_sf)
    sink = int(sf_node[-1]) + 1 if n_sf else int(n_cells * (n_priorities + 1))
    capacity = np.floor(site_family_capacity(instance, x) + 1e-9).astype(np.int64)
    counts = cells.counts.ravel().astype(np.int64)
    tails = np.concatenate([supply_node, supply_node, hub[cells.arc_cell], sf_node])
    heads = np.concatenate([np.full(len(supply_node), sink), np.repeat(hub, n_priorities),
                            sf_node[cells.arc_sf], np.full(n_sf, sink)])
    caps = np.concatenate([counts, counts, counts.reshape(n_cells, n_priorities).sum(axis=1)
                           [cells.arc_cell], capacity])
    unmet_cost = np.tile(PRIORITY_WEIGHTS, n_cells) * wt.unmet_per_exam
    costs = np.concatenate([unmet_cost, np.zeros(len(supply_node)),
                            cells.arc_km * wt.travel_per_km, np.zeros(n_sf)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64),
        np.round(costs * COST_SCALE).astype(np.int64))
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[supply_node] = counts
    supplies[sink] = -counts.sum()
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("the allocation flow has no solution; this is a bug")
    flows = flow.flows(np.arange(flow.num_arcs(), dtype=np.int32))
    n_supply = len(supply_node)
    unmet = flows[:n_supply].reshape(n_cells, n_priorities).astype(int)
    arcs = flows[2 * n_supply:2 * n_supply + len(cells.arc_cell)].astype(int)
    return arcs, unmet

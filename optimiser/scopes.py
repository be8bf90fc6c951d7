"""What one CP-SAT sub-model decides, and what it takes as fixed from the rest of the plan.

Two cuts of the network are exact sub-problems once the rest is fixed:
- a modality (its rooms, its families' demand, its share of each staff group: `staff_split`);
- a site (all its rooms and staff, the demand that may travel to it; every other site's rooms
  and bookings stay as they are). Staff belong to one site, so nothing is split; this is the
  neighbourhood that brings radiologist-led rooms together and trades staff across modalities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from domain.vocabulary import Modality
from optimiser.evaluation import Solution
from optimiser.instance import MODALITIES, Instance
from optimiser.staff_split import StaffSplit


@dataclass
class Scope:
    name: str
    options: np.ndarray
    flows: np.ndarray
    cells: np.ndarray
    arcs: np.ndarray
    session_cap: np.ndarray
    """[group, t] people the sub-model may roster."""
    daytime_cap: np.ndarray
    """[group] weekday-daytime person-sessions (the contracted ones)."""
    total_cap: np.ndarray
    """[group] person-sessions in the week, overtime included."""
    served_outside: np.ndarray
    """[cell] exams booked at sites outside the scope (fixed)."""
    unmet_outside: np.ndarray
    """[cell] unmet exams of cells outside the scope (fixed), for the wait rows."""
    modalities: tuple[Modality, ...]


def modality_scope(inst: Instance, modality: Modality, split: StaffSplit) -> Scope:
    m = MODALITIES.index(modality)
    needs = {j for j, need in enumerate(inst.needs) if need.modality is modality}
    flows = np.array([f for f, j in enumerate(inst.flow_need) if int(j) in needs], dtype=int)
    cells = inst.demand.cells_of(modality)
    arcs = np.flatnonzero(np.isin(inst.demand.arc_cell, cells))
    n_cells = len(inst.demand.cell_area)
    return Scope(str(modality), inst.options_of(modality), flows, cells, arcs,
                 split.session[m], split.daytime[m], split.total[m], np.zeros(n_cells),
                 np.zeros(n_cells), (modality,))


def site_scope(inst: Instance, site: int, base: Solution) -> Scope:
    cells = inst.demand
    options = np.flatnonzero(np.array([c.site for c in inst.classes])[inst.option_class] == site)
    groups = [g for g, group in enumerate(inst.groups)
              if group.site_id == inst.sites[site].site_id]
    flows = np.flatnonzero(np.isin(inst.flow_group, groups))
    arcs = np.flatnonzero(cells.arc_site == site)
    in_scope = np.unique(cells.arc_cell[arcs])
    outside = np.where(cells.arc_site != site, base.w, 0)
    served_outside = np.bincount(cells.arc_cell, weights=outside, minlength=len(cells.cell_area))
    modalities = tuple(m for m in MODALITIES if len(np.intersect1d(cells.cells_of(m), in_scope)))
    return Scope(inst.sites[site].site_id, options, flows, in_scope, arcs,
                 inst.group_available, inst.group_contracted,
                 inst.group_contracted + inst.group_overtime, served_outside,
                 base.unmet.sum(axis=1).astype(float), modalities)

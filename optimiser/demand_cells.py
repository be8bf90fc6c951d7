"""Weekly demand compiled for the solvers: whole exams per family × area × age band ×
priority, the sites each may be sent to within the travel limit (adults never to a site with an
age limit), and each one's home site (where its backlog waits). Demand that no site can serve is
diagnosed here, once, for every solver."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from domain.geography import haversine_km
from domain.vocabulary import AgeBand, ExamFamily, Modality, Priority
from optimiser.problem import Diagnosis, DiaryProblem

FAMILIES = tuple(ExamFamily)
PRIORITIES = tuple(Priority)
PRIORITY_WEIGHTS = np.array([p.weight for p in PRIORITIES], dtype=float)


@dataclass
class DemandCells:
    cell_family: np.ndarray
    """[cell] index into FAMILIES."""
    cell_area: list[str]
    cell_band: list[AgeBand]
    """[cell] age band: adult cells have no arcs to (and no home at) a site with an age limit."""
    counts: np.ndarray
    """[cell, priority] whole exams, priorities in PRIORITIES order."""
    cell_home: np.ndarray
    """[cell] nearest site able to serve the family at all, or -1."""
    arc_cell: np.ndarray
    arc_site: np.ndarray
    arc_km: np.ndarray
    arc_sf: np.ndarray
    """[arc] index into site_families."""
    site_families: list[tuple[int, ExamFamily]]
    sf_options: list[list[tuple[int, int]]]
    """[site-family] (option, exams per session) pairs that add capacity for it."""
    diagnoses: list[Diagnosis] = field(default_factory=list)
    _home_groups: dict = field(default_factory=dict, repr=False)

    @cached_property
    def totals(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    def cells_of(self, modality: Modality) -> np.ndarray:
        return self._cells_by_modality[modality]

    @cached_property
    def _cells_by_modality(self) -> dict[Modality, np.ndarray]:
        of_cell = [FAMILIES[f].modality for f in self.cell_family]
        return {m: np.array([c for c, mc in enumerate(of_cell) if mc is m], dtype=int)
                for m in Modality}

    def home_groups(self, modality: Modality) -> list[tuple[int, np.ndarray, float]]:
        """(site, cells homed there, their weekly demand) for the wait-imbalance rows."""
        if modality not in self._home_groups:
            self._home_groups[modality] = self._group_homes(modality)
        return self._home_groups[modality]

    def _group_homes(self, modality: Modality) -> list[tuple[int, np.ndarray, float]]:
        cells = self.cells_of(modality)
        result = []
        for site in sorted({int(self.cell_home[c]) for c in cells} - {-1}):
            homed = cells[self.cell_home[cells] == site]
            demand = float(self.totals[homed].sum())
            if demand > 0:
                result.append((site, homed, demand))
        return result


def compile_demand(problem: DiaryProblem, sites, templates, classes,
                   site_families: dict[tuple[int, ExamFamily], list[tuple[int, int]]],
                   ) -> DemandCells:
    areas = problem.network.area_by_id
    table = _whole_exams(problem)
    cell_keys = sorted(table)
    area_ids = sorted({a for _, a, _ in cell_keys})
    area_pos = {a: i for i, a in enumerate(area_ids)}
    lat = np.array([areas[a].lat for a in area_ids])
    lon = np.array([areas[a].lon for a in area_ids])
    km = haversine_km(lat[:, None], lon[:, None], np.array([s.lat for s in sites])[None, :],
                      np.array([s.lon for s in sites])[None, :]).reshape(len(area_ids), len(sites))
    sf_list = sorted(site_families, key=lambda key: (key[0], key[1].value))
    sf_index = {key: i for i, key in enumerate(sf_list)}
    capable = {f: sorted(s for s, fam in sf_list if fam is f) for f in FAMILIES}
    arcs: list[tuple[int, int, float, int]] = []
    homes: list[int] = []
    diagnoses: list[Diagnosis] = []
    for c, (family, area_id, band) in enumerate(cell_keys):
        distances = km[area_pos[area_id]]
        sites_able = [s for s in capable[family] if sites[s].admits(band)]
        homes.append(min(sites_able, key=lambda s: distances[s]) if sites_able else -1)
        reachable = [s for s in sites_able if distances[s] <= problem.travel_limit_km]
        arcs += [(c, s, float(distances[s]), sf_index[(s, family)]) for s in reachable]
        if capable[family] and not sites_able:
            diagnoses.append(Diagnosis(
                family, area_id, int(table[(family, area_id, band)].sum()),
                f"only sites with an age limit can do {family}; they do not take "
                f"{band.value} patients"))
        elif not reachable and sites_able:
            diagnoses.append(Diagnosis(
                family, area_id, int(table[(family, area_id, band)].sum()),
                f"the nearest site able to do {family} for {band.value} patients is "
                f"{distances[homes[-1]]:.0f} km away, beyond the "
                f"{problem.travel_limit_km:.0f} km travel limit"))
    diagnoses += _unservable_families(problem, table, capable, templates, classes)
    arc = np.array(arcs, dtype=float).reshape(-1, 4)
    return DemandCells(
        cell_family=np.array([FAMILIES.index(f) for f, _, _ in cell_keys], dtype=int),
        cell_area=[a for _, a, _ in cell_keys], cell_band=[b for _, _, b in cell_keys],
        counts=np.array([table[key] for key in cell_keys], dtype=int).reshape(-1, len(PRIORITIES)),
        cell_home=np.array(homes, dtype=int),
        arc_cell=arc[:, 0].astype(int), arc_site=arc[:, 1].astype(int), arc_km=arc[:, 2],
        arc_sf=arc[:, 3].astype(int),
        site_families=sf_list, sf_options=[site_families[key] for key in sf_list],
        diagnoses=diagnoses,
    )


def _whole_exams(problem: DiaryProblem) -> dict[tuple[ExamFamily, str, AgeBand], np.ndarray]:
    """Expected counts per family × area × age band rounded to whole exams so that each
    family's total is kept (largest remainders round up)."""
    table: dict[tuple[ExamFamily, str, AgeBand], np.ndarray] = {}
    by_family: dict[ExamFamily, list[tuple[tuple[ExamFamily, str, AgeBand], int, float]]] = {}
    for row in problem.demand:
        key = (row.family, row.area_id, row.age_band)
        by_family.setdefault(row.family, []).append(
            (key, PRIORITIES.index(row.priority), row.expected_count))
    for entries in by_family.values():
        floors = [int(np.floor(count)) for _, _, count in entries]
        short = round(sum(count for _, _, count in entries)) - sum(floors)
        order = sorted(range(len(entries)), key=lambda i: -(entries[i][2] - floors[i]))
        for rank, i in enumerate(order):
            key, priority, _ = entries[i]
            cell = table.setdefault(key, np.zeros(len(PRIORITIES), dtype=int))
            cell[priority] += floors[i] + (1 if rank < short else 0)
    return {key: cell for key, cell in table.items() if cell.sum() > 0}


def _unservable_families(problem, table, capable, templates, classes) -> list[Diagnosis]:
    """Say why a family with demand has no site at all: no template, no room, or no staff."""
    result = []
    for family in FAMILIES:
        if capable[family]:
            continue
        demand = int(sum(cell.sum() for (f, _, _), cell in table.items() if f is family))
        if demand == 0:
            continue
        result.append(Diagnosis(family, None, demand, _why_unservable(family, templates,
                                                                      classes)))
    return result


def _why_unservable(family: ExamFamily, templates, classes) -> str:
    offering = [t for t in templates if family in t.families]
    if not offering:
        return f"no session template offers {family}"
    runnable = [t for t in offering
                if any(t.modality is c.modality and t.required_capabilities <= c.capabilities
                       for c in classes)]
    if not runnable:
        needs = sorted({cap.value for t in offering for cap in t.required_capabilities})
        names = ", ".join(t.template_id for t in offering)
        return (f"no room can run a template for it ({names}): "
                f"no room has the capabilities they need ({', '.join(needs) or 'none'})")
    names = ", ".join(t.template_id for t in runnable)
    return (f"rooms can run {names} but no site has the staff they need (crew role and "
            f"skills, or a radiologist) in a session when the site is open")

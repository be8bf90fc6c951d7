"""The network as the engine's arrays: sites, families, areas, trusts and ICSs as indices,
area-to-site distances, which trust refers each patient (the synthetic history's site choice),
and expected daily referrals per cell. Compiled once per scenario; every replication reads it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from domain.geography import haversine_km
from domain.network import Network
from domain.vocabulary import AgeBand, ExamFamily, Modality, Priority
from optimiser.problem import DemandRow
from simulations.synthetic_history.demand import REFERRAL_WEEKDAY
from simulations.synthetic_history.sites import site_choice

FAMILIES = tuple(ExamFamily)
MODALITIES = tuple(Modality)
PRIORITIES = (Priority.TWO_WEEK_WAIT, Priority.URGENT, Priority.ROUTINE, Priority.PLANNED)
BANDS = (AgeBand.CHILD, AgeBand.ADULT)
FAMILY_MODALITY = np.array([MODALITIES.index(f.modality) for f in FAMILIES], dtype=np.int8)


@dataclass(frozen=True)
class World:
    network: Network
    site_ids: tuple[str, ...]
    area_ids: tuple[str, ...]
    trust_ids: tuple[str, ...]
    ics_ids: tuple[str, ...]
    site_trust: np.ndarray  # [S]
    trust_ics: np.ndarray  # [T]
    site_is_cdc: np.ndarray  # [S] bool
    site_by_rail: np.ndarray  # [S] bool: a station named in its public transport
    site_admits_adults: np.ndarray  # [S] bool
    area_imd: np.ndarray  # [A]
    distance_km: np.ndarray  # [A, S]
    referral_trust_cumulative: np.ndarray  # [M * A, T]: which trust refers a patient
    cells: np.ndarray  # [C, 4] family, area, priority, band of each referral cell
    weekly_rate: np.ndarray  # [C] expected referrals per week
    weekday_share: np.ndarray  # [F, 7] share of a family's weekly referrals on each weekday

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def n_groups(self) -> int:
        """Site × family queues."""
        return len(self.site_ids) * len(FAMILIES)


def compile_world(network: Network, demand: tuple[DemandRow, ...]) -> World:
    sites = network.sites
    site_ids = tuple(s.site_id for s in sites)
    area_ids = tuple(a.area_id for a in network.demand_areas)
    trust_ids = tuple(t.trust_id for t in network.trusts)
    ics_ids = tuple(i.ics_id for i in network.icss)
    areas = network.demand_areas
    distance = haversine_km(
        np.array([a.lat for a in areas])[:, None], np.array([a.lon for a in areas])[:, None],
        np.array([s.lat for s in sites])[None, :], np.array([s.lon for s in sites])[None, :])
    site_trust = np.array([trust_ids.index(s.trust_id) for s in sites], dtype=np.int16)
    return World(
        network=network, site_ids=site_ids, area_ids=area_ids, trust_ids=trust_ids,
        ics_ids=ics_ids, site_trust=site_trust,
        trust_ics=np.array([ics_ids.index(t.ics_id) for t in network.trusts], dtype=np.int16),
        site_is_cdc=np.array([s.is_cdc for s in sites]),
        site_by_rail=np.array(["station" in s.public_transport.lower() for s in sites]),
        site_admits_adults=np.array([s.admits(AgeBand.ADULT) for s in sites]),
        area_imd=np.array([a.imd_decile for a in areas], dtype=np.int16),
        distance_km=distance,
        referral_trust_cumulative=_referral_trusts(network, site_trust, len(trust_ids)),
        **_cells(demand, area_ids))


def _referral_trusts(network: Network, site_trust: np.ndarray, trusts: int) -> np.ndarray:
    """The trust responsible for a patient: the trust of the site the synthetic history's
    choice model sends them to (rooms of the modality × exp(-km / 10)), before any wait."""
    choice = site_choice(network)
    site_share = np.diff(choice.cumulative, axis=1, prepend=0.0)
    by_trust = np.zeros((site_share.shape[0], trusts))
    for s, t in enumerate(site_trust):
        by_trust[:, t] += site_share[:, s]
    cumulative = np.cumsum(by_trust, axis=1)
    cumulative[:, -1] = 1.0
    return cumulative


def _cells(demand: tuple[DemandRow, ...], area_ids: tuple[str, ...]) -> dict[str, np.ndarray]:
    area_index = {a: i for i, a in enumerate(area_ids)}
    totals: dict[tuple[int, int, int, int], float] = {}
    for row in demand:
        if row.area_id not in area_index or row.expected_count <= 0:
            continue
        key = (FAMILIES.index(row.family), area_index[row.area_id],
               PRIORITIES.index(row.priority), BANDS.index(row.age_band))
        totals[key] = totals.get(key, 0.0) + row.expected_count
    keys = sorted(totals)
    weekday = np.array([REFERRAL_WEEKDAY["walk_in" if f is ExamFamily.XR_PLAIN else "referred"]
                        for f in FAMILIES])
    return {"cells": np.array(keys, dtype=np.int32).reshape(-1, 4),
            "weekly_rate": np.array([totals[k] for k in keys]),
            "weekday_share": weekday / weekday.sum(axis=1, keepdims=True)}

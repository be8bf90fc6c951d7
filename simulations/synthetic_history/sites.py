"""Where patients of each demand area are seen: a site is drawn with probability proportional
to its rooms of the modality × exp(-distance / 10 km), so most go near home and big departments
draw from further away. Sites without a room of the modality are never chosen."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from domain.geography import haversine_km
from domain.network import Network
from domain.vocabulary import Modality

DISTANCE_DECAY_KM = 10.0
MODALITIES = tuple(Modality)


@dataclass(frozen=True)
class SiteChoice:
    """Cumulative choice probabilities per (modality, area) row over sites, and distances."""

    cumulative: np.ndarray  # [modalities * areas, sites], rows end at 1
    distance_km: np.ndarray  # [areas, sites]

    def draw(self, modality: np.ndarray, area: np.ndarray,
             rng: np.random.Generator) -> np.ndarray:
        rows, sites = self.cumulative.shape
        row = modality.astype(np.int64) * self.distance_km.shape[0] + area
        flat = (self.cumulative + np.arange(rows)[:, None]).ravel()
        index = np.searchsorted(flat, row + rng.random(len(row)), side="right")
        return np.minimum(index - row * sites, sites - 1).astype(np.int16)


def site_choice(network: Network) -> SiteChoice:
    areas = network.demand_areas
    distance = haversine_km(
        np.array([a.lat for a in areas])[:, None], np.array([a.lon for a in areas])[:, None],
        np.array([s.lat for s in network.sites])[None, :],
        np.array([s.lon for s in network.sites])[None, :],
    )
    site_index = {site.site_id: s for s, site in enumerate(network.sites)}
    rooms = np.zeros((len(MODALITIES), len(network.sites)))
    for room in network.rooms:
        rooms[MODALITIES.index(room.modality), site_index[room.site_id]] += 1
    pull = rooms[:, None, :] * np.exp(-distance / DISTANCE_DECAY_KM)[None, :, :]
    totals = pull.sum(axis=2, keepdims=True)
    cumulative = np.cumsum(pull / np.where(totals > 0, totals, 1), axis=2)
    cumulative[:, :, -1] = 1.0
    return SiteChoice(cumulative.reshape(-1, len(network.sites)), distance)


def modalities_without_rooms(network: Network) -> set[Modality]:
    return set(MODALITIES) - {room.modality for room in network.rooms}

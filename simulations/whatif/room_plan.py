"""A week's diary as slot counts per room, weekday, session period and exam family: what the
engine releases into its booking calendar each week. Made from the optimiser's room-sessions
and the session templates (the same templates the service turns into slots)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from domain.network import Network
from domain.session_templates import SessionTemplate
from optimiser.problem import PERIODS, RoomSession
from simulations.whatif.world import FAMILIES, MODALITIES


@dataclass(frozen=True)
class RoomPlan:
    room_ids: tuple[str, ...]
    room_site: np.ndarray  # [R] site index
    room_modality: np.ndarray  # [R] modality index
    slots: np.ndarray  # [R, 7, 3, F] exam slots by weekday and period


def rooms_of(network: Network, site_ids: tuple[str, ...]) -> tuple[tuple[str, ...], np.ndarray,
                                                                      np.ndarray]:
    site_index = {s: i for i, s in enumerate(site_ids)}
    return (tuple(r.room_id for r in network.rooms),
            np.array([site_index[r.site_id] for r in network.rooms], dtype=np.int16),
            np.array([MODALITIES.index(r.modality) for r in network.rooms], dtype=np.int8))


def room_plan(network: Network, site_ids: tuple[str, ...], sessions: Iterable[RoomSession],
              templates: Mapping[str, SessionTemplate]) -> RoomPlan:
    """Slots of the sessions given, folded onto weekdays (a week's diary); sessions of rooms
    the network does not have are ignored."""
    room_ids, room_site, room_modality = rooms_of(network, site_ids)
    index = {r: i for i, r in enumerate(room_ids)}
    slots = np.zeros((len(room_ids), 7, len(PERIODS), len(FAMILIES)), dtype=np.int16)
    family_index = {f: i for i, f in enumerate(FAMILIES)}
    for session in sessions:
        r = index.get(session.room_id)
        template = templates.get(session.template_id)
        if r is None or template is None:
            continue
        for family, count in template.capacity:
            slots[r, session.date.weekday(), PERIODS.index(session.period),
                  family_index[family]] += count
    return RoomPlan(room_ids, room_site, room_modality, slots)


def site_slots(plan_slots: np.ndarray, room_site: np.ndarray, n_sites: int) -> np.ndarray:
    """[S, F, 7] slots per site, family and weekday from [R, 7, F] room slots."""
    per_site = np.zeros((n_sites, *plan_slots.shape[1:]), dtype=np.int32)
    np.add.at(per_site, room_site, plan_slots)
    return per_site.transpose(0, 2, 1)

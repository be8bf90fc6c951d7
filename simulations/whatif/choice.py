"""Which site a patient books at: a multinomial logit over the sites that can do the exam.

    utility(site) = log(rooms of the modality at the site)         (size: more lists, more slots)
                    - km / DISTANCE_DECAY_KM                          (distance from home area)
                    - wait_per_week x quoted wait in weeks            (first free slot there)
                    + cdc x [the site is a community diagnostic centre]
                    + rail x [a station serves the site] x deprivation (IMD decile 1 -> 1, 10 -> 0)

With equal waits and the last two terms at zero this is exactly the synthetic history's site
choice (rooms x exp(-km / 10 km), `synthetic_history.sites`), so the share of patients who
travel past their nearest site is calibrated to the history by construction. The wait term
says how far patients go for a sooner test: at the default 0.8 per week, a week sooner is
worth 8 km, in line with the stated-preference finding that most patients will travel about
half an hour more to be seen weeks sooner (a stand-in a network would fit from its own
offers). CDCs, off hospital sites with easy parking, get a small bonus; a station matters
most to patients from deprived areas, who are less likely to have a car.

Sites further than the travel limit are never offered (unless none is nearer), an adult is
never sent to a children's hospital, and under "own trust" (today) a patient only sees the
sites of the trust that referred them (all sites, if that trust cannot do the exam)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulations.synthetic_history.sites import DISTANCE_DECAY_KM
from simulations.whatif.world import FAMILIES, FAMILY_MODALITY, World

NO_SITE = -1


@dataclass(frozen=True)
class ChoiceModel:
    wait_per_week: float = 0.8
    cdc: float = 0.2
    rail: float = 0.3
    travel_limit_km: float = 40.0


class SiteChooser:
    """The parts of the utility fixed for a run (rooms, distance, site kind); waits vary."""

    def __init__(self, world: World, rooms: np.ndarray, model: ChoiceModel,
                 own_trust: bool) -> None:
        """`rooms` is [S, M]: rooms of each modality at each site in the plan simulated."""
        self.world, self.model, self.own_trust = world, model, own_trust
        deprivation = (10 - world.area_imd) / 9
        with np.errstate(divide="ignore"):
            size = np.log(rooms.T)  # [M, S], -inf where the site has none
        self.base = (size[None, :, :] - world.distance_km[:, None, :] / DISTANCE_DECAY_KM
                     + model.cdc * world.site_is_cdc[None, None, :]
                     + model.rail * world.site_by_rail[None, None, :]
                     * deprivation[:, None, None])  # [A, M, S]
        nearest = world.distance_km <= np.maximum(
            model.travel_limit_km, world.distance_km.min(axis=1, keepdims=True))
        self.reachable = nearest  # [A, S]
        self.trust_sites = world.site_trust[None, :] == np.arange(len(world.trust_ids))[:, None]

    def choose(self, area: np.ndarray, family: np.ndarray, adult: np.ndarray,
               trust: np.ndarray, wait_weeks: np.ndarray, open_groups: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
        """A site per patient (NO_SITE when no site can do the exam). `wait_weeks` and
        `open_groups` are [S, F]: the quoted wait and whether the site offers the family."""
        n_sites = self.world.n_sites
        combos, rows = self._combos(area, family, adult, trust)
        c_area, c_family, _, _ = self._parts(combos)
        utility = (self.base[c_area, FAMILY_MODALITY[c_family], :]
                   - self.model.wait_per_week * wait_weeks[:, c_family].T)
        allowed = self._allowed(combos, open_groups)
        utility = np.where(allowed & np.isfinite(utility), utility, -np.inf)
        top = utility.max(axis=1, keepdims=True)
        weight = np.exp(utility - np.where(np.isfinite(top), top, 0.0))
        totals = weight.sum(axis=1, keepdims=True)
        cumulative = np.cumsum(weight / np.where(totals > 0, totals, 1.0), axis=1)
        cumulative[:, -1] = np.where(totals[:, 0] > 0, 1.0, 0.0)
        flat = (cumulative + np.arange(len(combos))[:, None]).ravel()
        index = np.searchsorted(flat, rows + rng.random(len(rows)), side="right")
        site = np.minimum(index - rows * n_sites, n_sites - 1)
        return np.where(totals[rows, 0] > 0, site, NO_SITE)

    def could_book(self, area: np.ndarray, family: np.ndarray, adult: np.ndarray,
                   trust: np.ndarray, open_groups: np.ndarray,
                   has_room: np.ndarray) -> np.ndarray:
        """Per patient: whether any site they may choose (as `choose` would offer them) has
        room ([S, F] `has_room`). A patient for whom none has cannot be booked today
        whichever site they choose, so the day's booking need not ask them."""
        combos, rows = self._combos(area, family, adult, trust)
        _, c_family, _, _ = self._parts(combos)
        room = self._allowed(combos, open_groups) & has_room[:, c_family].T
        return room.any(axis=1)[rows]

    def _combos(self, area, family, adult, trust) -> tuple[np.ndarray, np.ndarray]:
        """The distinct (area, family, adult, trust) of the patients and each one's row:
        a counting pass over the dense key space, not a sort of the patients."""
        trusts = len(self.world.trust_ids) if self.own_trust else 1
        key = ((area.astype(np.int64) * len(FAMILIES) + family) * 2 + adult) * trusts + (
            trust if self.own_trust else 0)
        space = len(self.world.area_ids) * len(FAMILIES) * 2 * trusts
        present = np.bincount(key, minlength=space) > 0
        combos = np.flatnonzero(present)
        row_of = np.zeros(space, dtype=np.int64)
        row_of[combos] = np.arange(len(combos))
        return combos, row_of[key]

    def _parts(self, combos: np.ndarray):
        trusts = len(self.world.trust_ids) if self.own_trust else 1
        rest, c_trust = np.divmod(combos, trusts)
        rest, c_adult = np.divmod(rest, 2)
        c_area, c_family = np.divmod(rest, len(FAMILIES))
        return c_area, c_family, c_adult, c_trust

    def _allowed(self, combos: np.ndarray, open_groups: np.ndarray) -> np.ndarray:
        """[combos, S] sites offered: reachable, open for the family, admitting the patient,
        and under "own trust" the referring trust's (all, if it has none open)."""
        c_area, c_family, c_adult, c_trust = self._parts(combos)
        allowed = (self.reachable[c_area] & open_groups[:, c_family].T
                   & (self.world.site_admits_adults[None, :] | (c_adult == 0)[:, None]))
        if self.own_trust:
            own = allowed & self.trust_sites[c_trust]
            allowed = np.where(own.any(axis=1, keepdims=True), own, allowed)
        return allowed

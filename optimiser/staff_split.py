"""Sharing staff that several modalities compete for (radiographers across XR, CT and MR;
radiologists across all) by the joint LP's usage, so that each modality can then be solved on its
own. The shares add up to no more than each group has, so plans solved apart combine feasibly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimiser.instance import MODALITIES, Instance


@dataclass
class StaffSplit:
    session: np.ndarray
    """[modality, group, t] people a modality may use in a session."""
    daytime: np.ndarray
    """[modality, group] weekday-daytime person-sessions (within contracted ones)."""
    total: np.ndarray
    """[modality, group] person-sessions in the week, overtime included."""


def split_staff(inst: Instance, lp_z: np.ndarray) -> StaffSplit:
    n_m, n_g, n_t = len(MODALITIES), len(inst.groups), inst.n_times
    usage = np.zeros((n_m, n_g, n_t))
    flow_t = np.array([inst.needs[n].t for n in inst.flow_need], dtype=int)
    flow_m = np.array([MODALITIES.index(inst.needs[n].modality) for n in inst.flow_need],
                      dtype=int)
    z = lp_z if len(lp_z) == len(flow_t) else np.zeros(len(flow_t))
    np.add.at(usage, (flow_m, inst.flow_group, flow_t), z)
    able = np.zeros((n_m, n_g, n_t), dtype=bool)
    able[flow_m, inst.flow_group, flow_t] = True
    weekly = usage.sum(axis=2)
    liking = np.where(able, 1.0 + weekly[:, :, None], 0.0)
    session = _whole_shares(usage.reshape(n_m, -1), inst.group_available.ravel(),
                            liking.reshape(n_m, -1))
    day_usage = np.where(inst.time_offpeak[None, None, :], 0.0, usage).sum(axis=2)
    week_liking = np.where(able.any(axis=2), 1.0 + weekly, 0.0)
    daytime = _whole_shares(day_usage, inst.group_contracted, week_liking)
    total = _whole_shares(weekly, inst.group_contracted + inst.group_overtime, week_liking)
    return StaffSplit(session.reshape(n_m, n_g, n_t), daytime, total)


def _whole_shares(usage: np.ndarray, available: np.ndarray, liking: np.ndarray) -> np.ndarray:
    """Whole people per modality: the LP's usage rounded down, spare people handed out by the
    largest fractions, then anyone the LP left idle to the modality that used the group most
    (among those it can staff at all)."""
    shares = np.floor(usage + 1e-6)
    spare = np.floor(available + 1e-6) - shares.sum(axis=0)
    fractions = usage - shares
    for _ in range(usage.shape[0]):
        best = np.argmax(fractions, axis=0)
        give = (spare > 0) & (fractions[best, np.arange(usage.shape[1])] > 1e-6)
        shares[best[give], np.flatnonzero(give)] += 1
        spare[give] -= 1
        fractions[best, np.arange(usage.shape[1])] = 0.0
    favourite = np.argmax(usage + 1e-6 * liking, axis=0)
    columns = np.flatnonzero((spare > 0) & (liking.max(axis=0) > 0))
    shares[favourite[columns], columns] += spare[columns]
    return shares


def weekly_only(inst: Instance, split: StaffSplit) -> StaffSplit:
    """The weekly shares alone: each modality may use anyone free in a session (the ledger
    keeps the joint per-session limit), so radiologist-led rooms can be brought together."""
    session = np.broadcast_to(inst.group_available, split.session.shape).copy()
    return StaffSplit(session, split.daytime.copy(), split.total.copy())


def around_plan(inst: Instance, split: StaffSplit, plan_z: np.ndarray,
                lp_z: np.ndarray) -> StaffSplit:
    """Shares that contain a plan (so it is a feasible hint for every modality): per session
    and per week, the plan's own use plus the idle people for the modality the LP used most."""
    n_m, n_g, n_t = split.session.shape
    flow_t = np.array([inst.needs[n].t for n in inst.flow_need], dtype=int)
    flow_m = np.array([MODALITIES.index(inst.needs[n].modality) for n in inst.flow_need],
                      dtype=int)
    used = np.zeros((n_m, n_g, n_t))
    np.add.at(used, (flow_m, inst.flow_group, flow_t), plan_z)
    liked = np.zeros((n_m, n_g, n_t))
    np.add.at(liked, (flow_m, inst.flow_group, flow_t), lp_z + 1e-6)
    idle = np.maximum(0.0, np.floor(inst.group_available + 1e-6) - used.sum(axis=0))
    favourite = np.argmax(liked, axis=0)
    session = used.copy()
    g_index, t_index = np.meshgrid(np.arange(n_g), np.arange(n_t), indexing="ij")
    session[favourite, g_index, t_index] += idle
    weekly_favourite = np.argmax(liked.sum(axis=2), axis=0)
    groups = np.arange(n_g)
    day_used = np.where(inst.time_offpeak[None, None, :], 0.0, used).sum(axis=2)
    daytime = day_used.copy()
    daytime[weekly_favourite, groups] += np.maximum(
        0.0, inst.group_contracted - day_used.sum(axis=0))
    total = used.sum(axis=2)
    total[weekly_favourite, groups] += np.maximum(
        0.0, inst.group_contracted + inst.group_overtime - total.sum(axis=0))
    return StaffSplit(session, daytime, total)

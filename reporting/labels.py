"""Names for grouping: the modality, site, trust and ICS of appointments and sessions (through
their room), so every figure groups by the same readable keys."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from reporting.record import MODALITIES, Record

NO_GROUP = "all"


def room_labels(record: Record, rooms: np.ndarray) -> pd.DataFrame:
    """network, modality, ics, trust, site and room names for room positions."""
    t = record.tables
    site = t.room_site[rooms]
    trust = t.site_trust[site]
    return pd.DataFrame({
        "network": NO_GROUP,
        "modality": np.array([m.value for m in MODALITIES], dtype=object)[t.room_modality[rooms]],
        "ics": t.ics_ids.to_numpy(dtype=object)[t.trust_ics[trust]],
        "trust": t.trusts.trust_id.astype(str).to_numpy(dtype=object)[trust],
        "site": t.sites.site_id.astype(str).to_numpy(dtype=object)[site],
        "room": t.rooms.room_id.astype(str).to_numpy(dtype=object)[rooms],
    })


def tidy_by(frame: pd.DataFrame, dimensions: Sequence[str],
            summarise: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
    """`summarise` applied per group of each dimension in turn, stacked with columns `by`
    (the dimension) and `group` (its value) in front."""
    parts = []
    for dimension in dimensions:
        grouped = summarise(frame.groupby(dimension, sort=True)).reset_index()
        grouped = grouped.rename(columns={dimension: "group"})
        grouped.insert(0, "by", dimension)
        parts.append(grouped)
    return pd.concat(parts, ignore_index=True)


def ratio(numerator: pd.Series | np.ndarray, denominator: pd.Series | np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is zero."""
    top = np.asarray(numerator, dtype=float)
    bottom = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)

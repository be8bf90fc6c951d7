"""Names for grouping: the modality, site, trust and ICS of appointments and sessions (through
their room), so every figure groups by the same readable keys."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from reporting.record import MODALITIES, Record

NO_GROUP = "all"


def room_labels(record: Record, rooms: np.ndarray) -> pd.DataFrame:
    """network, modality, ics, trust, site and room of room positions, as categoricals."""
    t = record.tables
    site = t.room_site[rooms]
    trust = t.site_trust[site]
    return pd.DataFrame({
        "network": pd.Categorical.from_codes(np.zeros(len(rooms), np.int8), [NO_GROUP]),
        "modality": pd.Categorical.from_codes(t.room_modality[rooms],
                                              [m.value for m in MODALITIES]),
        "ics": pd.Categorical.from_codes(t.trust_ics[trust], list(t.ics_ids)),
        "trust": pd.Categorical.from_codes(trust, list(t.trusts.trust_id.astype(str))),
        "site": pd.Categorical.from_codes(site, list(t.sites.site_id.astype(str))),
        "room": pd.Categorical.from_codes(rooms, list(t.rooms.room_id.astype(str))),
    })


def tidy_by(frame: pd.DataFrame, dimensions: Sequence[str],
            summarise: Callable[[pd.DataFrame], pd.DataFrame]) -> pd.DataFrame:
    """`summarise` applied per group of each dimension in turn, stacked with columns `by`
    (the dimension) and `group` (its value) in front."""
    parts = []
    for dimension in dimensions:
        grouped = summarise(frame.groupby(dimension, sort=True, observed=True)).reset_index()
        grouped = grouped.rename(columns={dimension: "group"})
        grouped["group"] = grouped.group.astype(str)
        grouped.insert(0, "by", dimension)
        parts.append(grouped)
    return pd.concat(parts, ignore_index=True)


def ratio(numerator: pd.Series | np.ndarray, denominator: pd.Series | np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is zero."""
    top = np.asarray(numerator, dtype=float)
    bottom = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), np.nan)

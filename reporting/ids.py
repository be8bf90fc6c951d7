"""Positions of ids: the engine joins frames by turning ids into row positions once, with a
fast path for ids that form one unbroken increasing range (the service's keys, the history
adapter's row numbers) and a sorted search otherwise."""

from __future__ import annotations

import numpy as np
import pandas as pd


class IdIndex:
    """Maps ids of one frame's id column to that frame's row positions."""

    def __init__(self, ids: np.ndarray) -> None:
        self._ids = np.asarray(ids, dtype=np.int64)
        n = len(self._ids)
        self._offset: int | None = None
        if n and self._ids[-1] - self._ids[0] == n - 1 and np.all(np.diff(self._ids) == 1):
            self._offset = int(self._ids[0])
        else:
            self._order = np.argsort(self._ids, kind="stable")
            self._sorted = self._ids[self._order]

    def __len__(self) -> int:
        return len(self._ids)

    def positions(self, ids: np.ndarray | pd.Series, missing: int = -1) -> np.ndarray:
        """Row positions of `ids`; `missing` where an id is absent or null."""
        if isinstance(ids, pd.Series):
            null = ids.isna().to_numpy()
            values = ids.to_numpy(dtype=np.int64, na_value=0)
        else:
            values = np.asarray(ids, dtype=np.int64)
            null = np.zeros(len(values), bool)
        if self._offset is not None:
            found = values - self._offset
            bad = null | (found < 0) | (found >= len(self._ids))
            if not bad.any():
                return found
        else:
            at = np.searchsorted(self._sorted, values)
            at_clipped = np.minimum(at, max(len(self._sorted) - 1, 0))
            bad = null | (at >= len(self._sorted))
            if len(self._sorted):
                bad |= self._sorted[at_clipped] != values
            found = self._order[at_clipped] if len(self._sorted) else at
        return np.where(bad, missing, found).astype(np.int64)


def key_codes(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Positions of text keys among `keys` (-1 for null); categoricals map without touching
    every string."""
    categories = pd.Index(keys.astype(str))
    if isinstance(values.dtype, pd.CategoricalDtype):
        # one gather through the categories; -1 (null) picks the appended -1. Positions are
        # numpy's index type, so indexing other arrays with them needs no conversion.
        mapping = np.r_[categories.get_indexer(values.cat.categories.astype(str)), -1]
        return mapping.astype(np.intp)[values.cat.codes.to_numpy()]
    return categories.get_indexer(values.astype("str")).astype(np.intp)


def enum_codes(values: pd.Series, codes: tuple[str, ...]) -> np.ndarray:
    """Positions of code values within `codes` as int8 (-1 for null)."""
    return key_codes(values, pd.Series(list(codes))).astype(np.int8)

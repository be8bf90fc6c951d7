"""The spread of a figure between trusts (the network's "regional variation"): for each
trust-level figure, the lowest and highest trust, the range, the quartiles and interquartile
range, and the coefficient of variation (population standard deviation / mean). Trusts
without a value for a figure (no activity) are left out of that figure's spread."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

COLUMNS = ["figure", "trusts", "min", "min_trust", "p25", "median", "p75", "max", "max_trust",
           "range", "iqr", "mean", "cv"]


def spread_between_trusts(figures: Mapping[str, pd.Series]) -> pd.DataFrame:
    """One row per figure; each series is indexed by trust id."""
    rows = [_spread(name, series.dropna()) for name, series in figures.items()]
    return pd.DataFrame(rows, columns=COLUMNS)


def _spread(name: str, values: pd.Series) -> dict[str, object]:
    if values.empty:
        return {"figure": name, "trusts": 0}
    numbers = values.to_numpy(dtype=float)
    p25, median, p75 = np.percentile(numbers, [25, 50, 75])
    mean = float(numbers.mean())
    return {
        "figure": name, "trusts": len(numbers),
        "min": float(numbers.min()), "min_trust": str(values.idxmin()),
        "p25": float(p25), "median": float(median), "p75": float(p75),
        "max": float(numbers.max()), "max_trust": str(values.idxmax()),
        "range": float(numbers.max() - numbers.min()), "iqr": float(p75 - p25),
        "mean": mean, "cv": float(numbers.std() / mean) if mean else np.nan,
    }

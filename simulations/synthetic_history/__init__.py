"""Synthetic history of an imaging network: requests, patients, appointments and outcomes
with known truth (expected demand, DNA probabilities), for training and judging the forecasting
and DNA-risk models. `generate_history` builds it in memory, `write_history` writes the folder
described in docs/history-schema.md."""

from simulations.synthetic_history.generator import (
    DEFAULT_START,
    HistorySettings,
    HistorySettingsError,
    SyntheticHistory,
    generate_history,
)
from simulations.synthetic_history.writer import write_history

__all__ = [
    "DEFAULT_START",
    "HistorySettings",
    "HistorySettingsError",
    "SyntheticHistory",
    "generate_history",
    "write_history",
]

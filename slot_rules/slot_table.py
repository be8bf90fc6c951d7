"""Slots as columns (one numpy array per attribute), so that one request can be checked against
every slot of six weeks of network diaries in a few vectorised operations.

Codes: modality = index in `Modality`; capabilities and exam families are bitmasks with bit i
for the i-th member of `Capability` / `ExamFamily`. Times are minutes since the Unix epoch, UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

import numpy as np

from domain.vocabulary import Capability, ExamFamily, Modality

MODALITY_CODE = {modality: code for code, modality in enumerate(Modality)}
CAPABILITY_BIT = {capability: 1 << i for i, capability in enumerate(Capability)}
FAMILY_BIT = {family: 1 << i for i, family in enumerate(ExamFamily)}
MINUTES_PER_DAY = 24 * 60


def capability_mask(capabilities: Iterable[Capability]) -> int:
    mask = 0
    for capability in capabilities:
        mask |= CAPABILITY_BIT[Capability(capability)]
    return mask


def family_mask(families: Iterable[ExamFamily]) -> int:
    mask = 0
    for family in families:
        mask |= FAMILY_BIT[ExamFamily(family)]
    return mask


def epoch_minutes(moment: datetime) -> int:
    """Minutes since the epoch of an aware datetime (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 60)


def day_start_minutes(day: date) -> int:
    """Epoch minutes of 00:00 UTC on a date."""
    return (day - date(1970, 1, 1)).days * MINUTES_PER_DAY


@dataclass(frozen=True)
class SiteTable:
    """Per-site columns, indexed by the slot table's `site` codes."""

    site_ids: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    step_free: np.ndarray
    hoist: np.ndarray
    age_limit_years: np.ndarray | None = None
    """Patients must be younger than this at the site (inf: all ages); None: no site limits."""

    def __post_init__(self) -> None:
        columns = ("lat", "lon", "step_free", "hoist",
                   *(("age_limit_years",) if self.age_limit_years is not None else ()))
        lengths = {len(self.site_ids), *(len(getattr(self, n)) for n in columns)}
        if len(lengths) != 1:
            raise ValueError("every site column must have one entry per site")

    @staticmethod
    def age_limits(limits: Iterable[int | None]) -> np.ndarray:
        """The `age_limit_years` column from per-site limits (None: all ages)."""
        return np.array([np.inf if limit is None else limit for limit in limits], dtype=float)

    def index_of(self, site_ids: Iterable[str]) -> np.ndarray:
        """Site codes for the given ids; unknown ids are ignored."""
        position = {site_id: i for i, site_id in enumerate(self.site_ids)}
        return np.array(sorted(position[s] for s in site_ids if s in position), dtype=np.int64)


@dataclass(frozen=True)
class SlotTable:
    """One row per slot. `free_run_min` is the minutes of consecutive free time in the same
    room session starting at this slot (0 if the slot is taken): an exam fits if its duration
    does not exceed it."""

    start_min: np.ndarray  # int64 epoch minutes, UTC
    length_min: np.ndarray  # int32
    site: np.ndarray  # int16 index into SiteTable
    room: np.ndarray  # int32 room index
    modality: np.ndarray  # int8 MODALITY_CODE
    room_capabilities: np.ndarray  # uint16 capability bitmask
    room_max_weight_kg: np.ndarray  # int16
    template_families: np.ndarray  # uint32 family bitmask the session template allows
    radiologist_present: np.ndarray  # bool
    free_run_min: np.ndarray  # int32

    def __post_init__(self) -> None:
        lengths = {len(getattr(self, f.name)) for f in fields(self)}
        if len(lengths) > 1:
            raise ValueError("every slot column must have the same length")

    def __len__(self) -> int:
        return len(self.start_min)

    def take(self, rows: np.ndarray | slice | list[int]) -> SlotTable:
        """The sub-table of the given rows (for explanations and samples)."""
        return SlotTable(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))

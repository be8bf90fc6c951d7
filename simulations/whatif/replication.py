"""What one replication measured after its warm-up, as plain arrays small enough to send
back from a worker: histograms and counts, never one row per patient."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_WAIT_DAYS = 365
BANDS = 14
"""DM01 bands: 0 <01 week ... 12 <13 weeks, 13+."""
WALK_IN_MAX_MINUTES = 240


@dataclass
class ReplicationResult:
    seed: int
    wait_days: np.ndarray  # [T, M, MAX_WAIT_DAYS + 1] attended (planned tests aside), by
    # referring trust and modality
    census: np.ndarray  # [T, tests, BANDS] DM01 waiting list at the end
    weekly: np.ndarray  # [weeks after warm-up, 3]: waiting, waiting 6+, waiting 13+
    planned: np.ndarray  # [S, M] slots in the diaries released for the measured days
    lost: np.ndarray  # [S, M] slots lost to breakdowns
    attended: np.ndarray  # [S, M]
    dna: np.ndarray  # [S, M]
    freed: int
    refilled: int
    """Freed slots put back into use: taken by a patient who accepted an offer, or (a week
    or more ahead) returned to the calendar."""
    filled_by_offer: int
    travel_km: np.ndarray  # [T, 2] sum of km, patients attended
    walk_in_minutes: np.ndarray  # [WALK_IN_MAX_MINUTES + 1]
    events: int
    seconds: float
    cpu_seconds: float = 0.0

    @staticmethod
    def empty(seed: int, trusts: int, sites: int, tests: int, weeks: int) -> ReplicationResult:
        return ReplicationResult(
            seed=seed, wait_days=np.zeros((trusts, 4, MAX_WAIT_DAYS + 1), dtype=np.int64),
            census=np.zeros((trusts, tests, BANDS), dtype=np.int64),
            weekly=np.zeros((weeks, 3), dtype=np.int64),
            planned=np.zeros((sites, 4), dtype=np.int64), lost=np.zeros((sites, 4), np.int64),
            attended=np.zeros((sites, 4), dtype=np.int64), dna=np.zeros((sites, 4), np.int64),
            freed=0, refilled=0, filled_by_offer=0, travel_km=np.zeros((trusts, 2)),
            walk_in_minutes=np.zeros(WALK_IN_MAX_MINUTES + 1, dtype=np.int64),
            events=0, seconds=0.0)

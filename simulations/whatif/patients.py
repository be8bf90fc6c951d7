"""Every request the simulation has seen, one entry per request in growable arrays, and the
day-indexed lists of who is due for what (becomes appointable, is cancelled, attends)."""

from __future__ import annotations

import numpy as np

PENDING, WAITING, BOOKED, SEEN, LEFT = 0, 1, 2, 3, 4
"""Not yet appointable (vetting, a planned test not yet due, a rebooking in the post);
appointable and not booked; booked; attended; discharged (a DNA not rebooked)."""

FIELDS = {
    "family": np.int8, "area": np.int16, "priority": np.int8, "adult": np.int8,
    "trust": np.int16, "age": np.float32, "effect": np.float32, "received": np.int32,
    "clock": np.int32, "ready": np.int32, "site": np.int16, "appt": np.int32,
    "booked_on": np.int32, "cancel_on": np.int32, "by_patient": np.bool_,
    "p_dna": np.float32, "prior_dna": np.int8, "state": np.int8, "walk_in": np.bool_,
}


class Patients:
    def __init__(self, capacity: int, days: int) -> None:
        self.n = 0
        self.columns = {name: np.zeros(capacity, dtype=kind) for name, kind in FIELDS.items()}
        self.ready_lists: list[list[np.ndarray]] = [[] for _ in range(days)]
        self.cancel_lists: list[list[np.ndarray]] = [[] for _ in range(days)]
        self.due_lists: list[list[np.ndarray]] = [[] for _ in range(days)]

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("columns")
        if columns is not None and name in columns:
            return columns[name][:self.n]
        raise AttributeError(name)

    def add(self, count: int, **values: np.ndarray | int) -> np.ndarray:
        """Append `count` requests (fields not given are 0, appt/site/cancel -1)."""
        self._grow(self.n + count)
        ids = np.arange(self.n, self.n + count)
        for name, column in self.columns.items():
            default = -1 if name in ("site", "appt", "cancel_on", "booked_on") else 0
            column[ids] = values.get(name, default)
        self.n += count
        return ids

    def set(self, ids: np.ndarray, **values: np.ndarray | int) -> None:
        for name, value in values.items():
            self.columns[name][ids] = value

    def schedule(self, buckets: list[list[np.ndarray]], ids: np.ndarray,
                 days: np.ndarray) -> None:
        """File `ids` under their days (those past the end are dropped)."""
        keep = days < len(buckets)
        ids, days = ids[keep], days[keep]
        if len(ids) == 0:
            return
        order = np.argsort(days, kind="stable")
        ids, days = ids[order], days[order]
        bounds = np.flatnonzero(np.diff(days)) + 1
        for chunk, day in zip(np.split(ids, bounds), days[np.r_[0, bounds]], strict=True):
            buckets[int(day)].append(chunk)

    @staticmethod
    def take(buckets: list[list[np.ndarray]], day: int) -> np.ndarray:
        if day >= len(buckets) or not buckets[day]:
            return np.zeros(0, dtype=np.int64)
        ids = np.concatenate(buckets[day])
        buckets[day] = []
        return ids

    def _grow(self, needed: int) -> None:
        capacity = len(self.columns["state"])
        if needed <= capacity:
            return
        size = max(needed, 2 * capacity)
        for name, column in self.columns.items():
            grown = np.zeros(size, dtype=column.dtype)
            grown[:capacity] = column
            self.columns[name] = grown

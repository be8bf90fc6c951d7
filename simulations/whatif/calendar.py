"""The booking calendar: free exam slots per queue (site × family) and day. Booking takes the
earliest free slot for each patient in order, most urgent first, vectorised over every queue
at once: a patient ranked k in a queue gets the first day whose cumulative free slots reach
k + 1 (a sorted search over all queues' cumulative sums laid end to end).

A share of each day's slots is held back: for urgent and two-week-wait patients until
`release_days` before the day (then anyone may book them), and in plain X-ray for walk-ins
on the day itself. Slots are whole exams, the engine's unit of time is the day: within a day
patients are not given times (the DNA model takes a typical mid-morning start)."""

from __future__ import annotations

import numpy as np


class Calendar:
    def __init__(self, n_groups: int, n_days: int) -> None:
        self.free = np.zeros((n_groups, n_days), dtype=np.int32)
        self.held = np.zeros((n_groups, n_days), dtype=np.int32)
        self.planned = np.zeros((n_groups, n_days), dtype=np.int32)
        """Slots in the diary as released (before breakdowns): the utilisation denominator."""
        self.lost = np.zeros((n_groups, n_days), dtype=np.int32)
        """Slots lost to breakdowns and closures after release."""

    @property
    def n_days(self) -> int:
        return self.free.shape[1]

    def release(self, first_day: int, slots: np.ndarray, hold_share: np.ndarray) -> None:
        """Add a block of days' slots ([G, days]); `hold_share` is [G], held back."""
        end = min(first_day + slots.shape[1], self.n_days)
        block = slots[:, :end - first_day]
        held = np.floor(block * hold_share[:, None] + 0.5).astype(np.int32)
        self.held[:, first_day:end] += held
        self.free[:, first_day:end] += block - held
        self.planned[:, first_day:end] += block

    def open_held(self, day: int, groups: np.ndarray | None = None) -> None:
        """Make the held slots of `day` free for anyone (all queues, or those given)."""
        if not 0 <= day < self.n_days:
            return
        rows = slice(None) if groups is None else groups
        self.free[rows, day] += self.held[rows, day]
        self.held[rows, day] = 0

    def remove(self, group: int, day: int, slots: int) -> int:
        """Take `slots` out of a day (a breakdown, a closure): free ones first, then held;
        returns how many booked patients must be moved (slots taken that were booked)."""
        self.lost[group, day] += slots
        from_free = min(slots, self.free[group, day])
        self.free[group, day] -= from_free
        from_held = min(slots - from_free, self.held[group, day])
        self.held[group, day] -= from_held
        return slots - from_free - from_held

    def give_back(self, groups: np.ndarray, days: np.ndarray) -> None:
        np.add.at(self.free, (groups, days), 1)

    def first_free(self, from_day: int, horizon: int) -> np.ndarray:
        """[G] days from `from_day` to the first free slot; `horizon` when none is released."""
        window = self.free[:, from_day:from_day + horizon] > 0
        found = window.any(axis=1)
        return np.where(found, window.argmax(axis=1), horizon)

    def book(self, groups: np.ndarray, from_day: int, horizon: int,
             use_held: bool) -> np.ndarray:
        """Days booked for patients in order (each queue's patients in priority order), -1
        for those the released diary cannot take. `groups` need not be sorted."""
        end = min(from_day + horizon, self.n_days)
        width = end - from_day
        if len(groups) == 0 or width <= 0:
            return np.full(len(groups), -1, dtype=np.int32)
        order = np.argsort(groups, kind="stable")
        sorted_groups = groups[order]
        starts = np.searchsorted(sorted_groups, sorted_groups, side="left")
        rank = np.arange(len(groups)) - starts
        window = self.free[:, from_day:end]
        if use_held:
            window = window + self.held[:, from_day:end]
        cumulative = np.cumsum(window, axis=1, dtype=np.int64)
        big = int(cumulative[:, -1].max()) + len(groups) + 1
        offset = np.arange(len(window), dtype=np.int64)[:, None] * big
        flat = (cumulative + offset).ravel()
        index = np.searchsorted(flat, sorted_groups.astype(np.int64) * big + rank + 1)
        row, column = np.divmod(index, width)
        booked = (row == sorted_groups) & (index < flat.size)
        days = np.full(len(groups), -1, dtype=np.int32)
        days[order[booked]] = from_day + column[booked]
        taken = np.bincount(sorted_groups[booked] * width + column[booked],
                            minlength=len(window) * width).reshape(len(window), width)
        self._take(taken, from_day, end, use_held)
        return days

    def _take(self, taken: np.ndarray, start: int, end: int, use_held: bool) -> None:
        if use_held:
            from_held = np.minimum(taken, self.held[:, start:end])
            self.held[:, start:end] -= from_held
            taken = taken - from_held
        self.free[:, start:end] -= taken

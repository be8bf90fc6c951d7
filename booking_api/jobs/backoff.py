"""When to try failed work again: exponential backoff with jitter, so retries after an
outage spread out instead of arriving together."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Try again after base, 2 x base, 4 x base... (capped), each delay jittered to between
    half and all of itself ("equal jitter"); give up after `max_attempts`."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 12

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("retry base must be positive and no larger than its cap")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt (1 for the first)."""
        exponent = min(max(attempts, 1) - 1, 40)
        ceiling = min(self.cap, self.base * (2 ** exponent))
        return ceiling * (0.5 + 0.5 * (rng or random).random())

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

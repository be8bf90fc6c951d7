"""The clock the service reads. Production reads the real one; tests hand the app a clock
they can move (`app.state.clock`), so holds, tokens and rate limits can be tested in time.
Nothing orders changes across nodes by this clock: the slot index reads the database's own
change stamps (`booking_api.core.change_stamps`), so a node whose clock is off loses no slot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from booking_api.core.columns import utc_now

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware."""

DEFAULT_CLOCK: Clock = utc_now

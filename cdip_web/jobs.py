"""Background work of a web process: the hold sweeper for as long as the app is up, and the
slot index loaded once at start so the first search does not wait for it."""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import suppress
from dataclasses import dataclass

from fastapi import FastAPI

from booking_api.appointments.hold_sweeper import sweep_holds_periodically
from booking_api.core.app_state import app_clock, database_of
from booking_api.search.services import warm_index

logger = logging.getLogger(__name__)


@dataclass
class BackgroundJobs:
    """The asyncio tasks one app runs while it serves."""

    tasks: list[asyncio.Task[None]]

    @classmethod
    def start(cls, app: FastAPI) -> BackgroundJobs:
        tasks = []
        interval = app.state.settings.hold_sweep_seconds
        if interval > 0:
            # The clock is looked up at each sweep: tests swap app.state.clock after start.
            tasks.append(asyncio.create_task(sweep_holds_periodically(
                database_of(app).sessions, lambda: app_clock(app)(), interval)))
        return cls(tasks)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with suppress(asyncio.CancelledError):
                await task


def warm_slot_index(app: FastAPI) -> None:
    """Load the slot index in a background thread as the service starts (on the demo's six
    weeks of diaries a load takes seconds)."""
    threading.Thread(target=warm_index, args=(database_of(app), app.state.slot_index),
                     daemon=True, name="slot-index-warm-up").start()

"""Background work of a web process: the job runner (`booking_api.background`: hold sweeps,
the daily rules sweep, messages to patients, queued jobs) for as long as the app is up,
unless `CDIP_RUN_JOBS_IN_SERVER` is off because `cdip worker` processes run it; and the
slot index kept caught up by its follower thread (`CDIP_INDEX_FOLLOW_SECONDS`), or loaded once
at start so the first search does not wait for it; and the manager dashboard's figures
computed at start and kept fresh (`CDIP_DASHBOARD_REFRESH_SECONDS`)."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass

from fastapi import FastAPI

from booking_api.background import background_runner
from booking_api.core.app_state import app_clock, database_of
from booking_api.jobs.runner import JobRunner
from booking_api.reports.warming import DashboardWarmer
from booking_api.search.follower import IndexFollower
from booking_api.search.services import warm_index
from pages_common.rendering import LONDON

logger = logging.getLogger(__name__)


@dataclass
class BackgroundJobs:
    """The job runner one app runs while it serves (None: workers run the jobs), and the
    thread keeping its slot index caught up (None: searches catch it up as they come)."""

    runner: JobRunner | None
    follower: IndexFollower | None = None
    dashboard: DashboardWarmer | None = None

    @classmethod
    def start(cls, app: FastAPI) -> BackgroundJobs:
        settings = app.state.settings
        follower = dashboard = None
        if settings.index_follow_seconds > 0:
            follower = IndexFollower(database_of(app), app.state.slot_index,
                                     settings.index_follow_seconds).start()
        if settings.dashboard_refresh_seconds > 0:
            dashboard = DashboardWarmer(
                database_of(app), lambda: app_clock(app)().astimezone(LONDON).date(),
                settings.dashboard_refresh_seconds).start()
        if not settings.run_jobs_in_server:
            return cls(None, follower, dashboard)
        # The clock is looked up at each run: tests swap app.state.clock after start.
        runner = background_runner(database_of(app), settings, lambda: app_clock(app)(),
                                   app.state.message_policy, role="serve")
        return cls(runner.start(), follower, dashboard)

    async def stop(self) -> None:
        if self.dashboard is not None:
            await asyncio.to_thread(self.dashboard.stop)
        if self.follower is not None:
            await asyncio.to_thread(self.follower.stop)
        if self.runner is not None:
            await asyncio.to_thread(self.runner.stop)


def warm_slot_index(app: FastAPI) -> None:
    """Load the slot index in a background thread as the service starts (on the demo's six
    weeks of diaries a load takes seconds), unless the follower thread does (it starts with
    the app and loads the index first)."""
    if app.state.settings.index_follow_seconds > 0:
        return
    threading.Thread(target=warm_index, args=(database_of(app), app.state.slot_index),
                     daemon=True, name="slot-index-warm-up").start()

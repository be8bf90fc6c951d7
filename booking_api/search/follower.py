"""Keeps a web process's slot index caught up in a thread of its own, so a change committed by
any node (or `cdip worker`, or a diary build) is offered or withdrawn here within a fraction
of a second even when no search comes, and searches never wait for a catch-up or a reload:
they read the contents as they are while this thread works (`SlotIndex.refresh(wait=False)`).

A week of new slots takes seconds to merge (or reload), so the follower leaves that to a
second thread (`SlotIndex.build_beside`) and keeps applying bookings, holds and cancellations
to the live index meanwhile: a booking committed during a diary build's merge is withdrawn
everywhere as quickly as any other.

Readiness (`index_readiness`) is "loaded, and caught up within the last N seconds": a node that
cannot reach the database, or is reloading, drops out of the balancer until it has caught up.
"""

from __future__ import annotations

import logging
import threading
import time

from starlette.applications import Starlette

from booking_api.core.db import Database
from booking_api.search.index import SlotIndex

logger = logging.getLogger(__name__)
ERROR_LOG_EVERY_S = 30.0


class IndexFollower:
    """A daemon thread that catches `index` up every `interval_s` seconds until stopped, and
    one that builds the merges and reloads the catch-ups leave beside the live index."""

    def __init__(self, db: Database, index: SlotIndex, interval_s: float) -> None:
        self.db, self.index, self.interval_s = db, index, interval_s
        self._stop = threading.Event()
        self._build_wanted = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slot-index-follower",
                                        daemon=True)
        self._builder = threading.Thread(target=self._build, name="slot-index-builder",
                                         daemon=True)
        self._logged_at = -ERROR_LOG_EVERY_S

    def start(self) -> IndexFollower:
        self.index.builds_beside = True
        self._thread.start()
        self._builder.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._build_wanted.set()
        self._thread.join(timeout_s)
        self._builder.join(timeout_s)
        self.index.builds_beside = False  # searches catch up (and merge) from here on

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self.db.reading() as session:
                    self.index.refresh(session, force=True)
            except Exception as error:  # the database may be restarting: try again
                self._log(error, "slot index could not catch up")
            if self.index.build_wanted:
                self._build_wanted.set()
            self._stop.wait(self.interval_s)

    def _build(self) -> None:
        while not self._stop.is_set():
            self._build_wanted.wait()
            self._build_wanted.clear()
            if self._stop.is_set():
                return
            try:
                started = time.monotonic()
                if self.index.build_beside(self.db.reading):
                    logger.info("slot index rebuilt beside the live one",
                                extra={"event": "index_swapped", "slots": len(self.index),
                                       "seconds": round(time.monotonic() - started, 2)})
            except Exception as error:  # left to build still: the follower asks again
                self._log(error, "slot index could not build beside the live one")
                self._stop.wait(self.interval_s)

    def _log(self, error: Exception, message: str) -> None:
        if time.monotonic() - self._logged_at >= ERROR_LOG_EVERY_S:
            self._logged_at = time.monotonic()
            logger.warning(message, extra={"event": "index_behind",
                                           "error": type(error).__name__})


def index_readiness(index: SlotIndex, within_s: float, following: bool = True) -> str | None:
    """None when the index is loaded and (when a follower keeps it so) caught up within
    `within_s`, else why not. Without a follower an idle index is only as fresh as its last
    search, so loaded is all that can be asked."""
    behind = index.behind_s()
    if behind is None:
        return "loading"
    if following and behind > within_s:
        return f"not caught up for {behind:.0f} s"
    return None


async def slot_index_ready(app: Starlette) -> str | None:
    """The readiness check of a web app's slot index (`/health/ready`)."""
    settings = app.state.settings
    return index_readiness(app.state.slot_index, settings.index_ready_within_seconds,
                           following=settings.index_follow_seconds > 0)

"""The thread that keeps a web process's manager dashboard warm: the record read and the
default view computed as the service starts, then every period the record's version checked
and, when it changed, read again and the views used last computed again, all before a page
asks. Per process (each holds its own figures in memory), so not a job of the shared runner."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date

from booking_api.core.db import Database
from booking_api.reports.dashboard import warm_dashboard

logger = logging.getLogger(__name__)


class DashboardWarmer:
    """Started with the app, stopped with it; a failed read is logged and tried next period."""

    def __init__(self, database: Database, today: Callable[[], date], every_s: float) -> None:
        if every_s <= 0:
            raise ValueError(f"every_s must be above 0, not {every_s}")
        self._database = database
        self._today = today
        self._every_s = every_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="dashboard-warmer")

    def start(self) -> DashboardWarmer:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10) -> None:
        """Stop after the read under way, if any (a daemon thread: never holds up exit)."""
        self._stopping.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            warm_dashboard(self._database, self._today)
            logger.info("dashboard warm", extra={"every_s": self._every_s})
            self._stopping.wait(self._every_s)

"""The manager dashboard's memory: the report frames of one database, the dashboards computed
from them, and their refresh. Reading the whole record takes seconds at network scale, so a
page never waits for it: the first read starts as the service starts (`warm`), a page before
it is done hears `FiguresNotReady` after a short wait, and a change in the record is read in
the background while pages show the figures as of the last read. Before a fresh read replaces
the old, the views managers used last are computed again from it, so a page after a refresh
is as quick as one before."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from booking_api.appointments.models import Appointment
from booking_api.core.db import read_only
from booking_api.reports.service_frames import service_inputs
from booking_api.requests.models import Request, RequestEvent
from booking_api.slots.models import DiarySession, Slot
from reporting.inputs import ReportInputs, check_inputs
from reporting.record import Record, prepare
from reporting.subset import inputs_for

logger = logging.getLogger(__name__)
KEPT_DASHBOARDS = 64
"""Computed dashboards kept (a few tables each): every view a manager flips between."""
KEPT_RECORDS = 16
"""Prepared records kept, per trust and modality (together no bigger than a few whole ones)."""
RECOMPUTED_VIEWS = 8
"""Views used last that a refresh computes again before it replaces the old figures."""
VERSION_TTL_S = 1.0
"""How long a version read is trusted: a page and its charts and CSVs (a burst of requests)
ask the database once."""

Prepared = Callable[[str | None, str | None], Record]
Compute = Callable[[ReportInputs, Any, date, datetime, Prepared], Any]
"""(inputs, filters, today, read_at, prepared) -> dashboard: `dashboard._compute`."""


class FiguresNotReady(Exception):
    """The first read of the record since the service started is still under way."""

    def __init__(self, started_at: datetime) -> None:
        super().__init__(f"the figures are being computed (started {started_at:%H:%M:%S} UTC)")
        self.started_at = started_at


class DashboardCache:
    """The frames of one database and the dashboards computed from them."""

    def __init__(self, engine: Engine, compute: Compute) -> None:
        self._engine = engine
        self._compute = compute
        self._lock = threading.Lock()
        self._first_read_done = threading.Event()
        self._first_read_started: datetime | None = None
        self._version: tuple | None = None
        self._checked: tuple[float, tuple] | None = None
        self._inputs: ReportInputs | None = None
        self._read_at: datetime | None = None
        self._refreshing = threading.Lock()
        """Held by the one refresh under way."""
        self._dashboards: OrderedDict[tuple, Any] = OrderedDict()
        self._records: OrderedDict[tuple, Record] = OrderedDict()
        self.listeners: list[Callable[[Any], None]] = []
        """Called with each dashboard computed in the background (charts drawn ahead)."""

    def inputs(self, wait_s: float | None = None) -> tuple[ReportInputs, datetime]:
        """The frames and when they were read; FiguresNotReady if the first read is not done
        within `wait_s` (None: wait for it). A change since starts a read in the background."""
        with self._lock:
            if self._inputs is not None and self._read_at is not None:
                inputs, read_at = self._inputs, self._read_at
                known = self._version
            else:
                inputs = None
        if inputs is None:
            return self._first_inputs(wait_s)
        version = self._current_version()
        if version != known:
            self._refresh_in_background(version)
        return inputs, read_at

    def dashboard(self, filters: Any, today: date, wait_s: float | None = None) -> Any:
        """The dashboard of `filters`, computed once per read of the record."""
        inputs, read_at = self.inputs(wait_s)
        key = (filters, today)
        with self._lock:
            if self._inputs is inputs and key in self._dashboards:
                self._dashboards.move_to_end(key)
                return self._dashboards[key]
        made = self._compute(inputs, filters, today, read_at,
                             lambda trust, modality: self._prepared(inputs, trust, modality))
        with self._lock:
            if self._inputs is inputs:
                self._keep(key, made)
        return made

    def warm(self, views: Callable[[], list[Any]], today: Callable[[], date]) -> None:
        """Read the record (again, if it changed) and compute the filters `views()` of
        `today()` (the service's start and its schedule): pages find them made."""
        try:
            with self._lock:
                first = self._inputs is None
            if first:
                self.inputs(wait_s=None)
            else:
                self._try_refresh(self._current_version(fresh=True), wait=True)
            day = today()
            for filters in views():
                with self._lock:
                    known = (filters, day) in self._dashboards
                if not known:
                    self._tell(self.dashboard(filters, day))
        except Exception:  # the next page or tick tries again
            logger.exception("warming the dashboard failed")

    def _first_inputs(self, wait_s: float | None) -> tuple[ReportInputs, datetime]:
        with self._lock:
            if self._first_read_started is None:
                self._first_read_started = datetime.now(UTC)
                threading.Thread(target=self._first_read, daemon=True,
                                 name="dashboard-first-read").start()
            started = self._first_read_started
        if not self._first_read_done.wait(wait_s):
            raise FiguresNotReady(started)
        with self._lock:
            if self._inputs is None or self._read_at is None:  # the read failed: try again
                self._first_read_started = None
                self._first_read_done.clear()
                raise FiguresNotReady(started)
            return self._inputs, self._read_at

    def _first_read(self) -> None:
        try:
            version = self._current_version(fresh=True)
            inputs = _checked(service_inputs(self._engine))
            with self._lock:
                self._inputs, self._version = inputs, version
                self._read_at = datetime.now(UTC)
        except Exception:
            logger.exception("reading the report frames failed")
        finally:
            self._first_read_done.set()

    def _refresh_in_background(self, version: tuple) -> None:
        if not self._refreshing.locked():
            threading.Thread(target=self._try_refresh, args=(version,), daemon=True,
                             name="dashboard-frames").start()

    def _try_refresh(self, version: tuple, wait: bool = False) -> None:
        """Read the frames again if `version` is not the one shown, compute the views used
        last from them, then show them. Unless `wait`, nothing when a refresh is under way."""
        if not self._refreshing.acquire(blocking=wait):
            return
        try:
            with self._lock:
                if version == self._version:
                    return
            inputs = _checked(service_inputs(self._engine))
            read_at = datetime.now(UTC)
            with self._lock:
                used = list(self._dashboards)[-RECOMPUTED_VIEWS:]
            records: dict[tuple, Record] = {}

            def prepared(trust: str | None, modality: str | None) -> Record:
                if (trust, modality) not in records:
                    records[(trust, modality)] = prepare(inputs_for(inputs, trust, modality),
                                                         checked=True)
                return records[(trust, modality)]

            made = {key: self._compute(inputs, key[0], key[1], read_at, prepared)
                    for key in used}
            with self._lock:
                self._inputs, self._version, self._read_at = inputs, version, read_at
                self._dashboards.clear()
                self._records.clear()
                for key, dashboard in made.items():
                    self._keep(key, dashboard)
                self._records.update(records)
            for dashboard in made.values():
                self._tell(dashboard)
        except Exception:  # the figures already shown stay; the next page tries again
            logger.exception("reading the report frames failed")
        finally:
            self._refreshing.release()

    def _prepared(self, inputs: ReportInputs, trust_id: str | None,
                  modality: str | None) -> Record:
        """The prepared record of a part of the inputs, kept for the next filter with it."""
        key = (trust_id, modality)
        with self._lock:
            if self._inputs is inputs and key in self._records:
                self._records.move_to_end(key)
                return self._records[key]
        record = prepare(inputs_for(inputs, trust_id, modality), checked=True)
        with self._lock:
            if self._inputs is inputs:
                self._records[key] = record
                while len(self._records) > KEPT_RECORDS:
                    self._records.popitem(last=False)
        return record

    def _keep(self, key: tuple, dashboard: Any) -> None:
        self._dashboards[key] = dashboard
        self._dashboards.move_to_end(key)
        while len(self._dashboards) > KEPT_DASHBOARDS:
            self._dashboards.popitem(last=False)

    def _tell(self, dashboard: Any) -> None:
        for listener in list(self.listeners):
            try:
                listener(dashboard)
            except Exception:
                logger.exception("a dashboard listener failed")

    def _current_version(self, fresh: bool = False) -> tuple:
        now = time.monotonic()
        with self._lock:
            if not fresh and self._checked is not None and now - self._checked[0] < VERSION_TTL_S:
                return self._checked[1]
        version = record_version(self._engine)
        with self._lock:
            self._checked = (now, version)
        return version


def _checked(inputs: ReportInputs) -> ReportInputs:
    """The frames, checked once per read (each narrowed record is a part of them)."""
    check_inputs(inputs)
    return inputs


def record_version(engine: Engine) -> tuple:
    """What changes whenever a figure could: newest event, appointment and slot changes,
    sessions and requests (each an indexed max: a millisecond). A backfill fill is a new
    appointment, a freed slot a cancelled one: both change the appointments' stamp."""
    query = sa.select(
        sa.select(sa.func.max(RequestEvent.id)).scalar_subquery(),
        sa.select(sa.func.max(Appointment.change_seq)).scalar_subquery(),
        sa.select(sa.func.max(Slot.change_seq)).scalar_subquery(),
        sa.select(sa.func.max(DiarySession.id)).scalar_subquery(),
        sa.select(sa.func.max(Request.id)).scalar_subquery())
    with read_only(engine).connect() as connection:
        return tuple(connection.execute(query).one())

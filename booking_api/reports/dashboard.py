"""The manager dashboard's read model: a month's figures, and the trends of the twelve months
up to it, for the whole network or narrowed to a trust and/or a modality, as plain tables a
page draws and offers as CSV.

Reading the whole record from the database takes seconds at network scale, and a manager's
page must answer in well under one, so the frames are kept in memory per database and read
again only when the record changed: a version made of the newest request event, appointment
change, slot change and diary session (one indexed query, a millisecond). Computed dashboards
are kept too, a few per version (the filters a manager flips between)."""

from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Engine

from booking_api.appointments.models import Appointment
from booking_api.core.db import Database, read_only
from booking_api.core.errors import InvalidInput
from booking_api.reports.service_frames import service_inputs
from booking_api.requests.models import Request, RequestEvent
from booking_api.slots.models import DiarySession, Slot
from domain.lifecycle import RequestState
from domain.vocabulary import Modality
from reporting.attendance import attendance
from reporting.errors import ReportingError
from reporting.inputs import ReportInputs
from reporting.london import Month
from reporting.record import Record, prepare
from reporting.subset import inputs_for
from reporting.turnaround import turnaround
from reporting.utilisation import (
    modality_utilisation,
    session_utilisation,
    trust_utilisation,
)
from reporting.variation import spread_between_trusts
from reporting.waiting_list import BAND_LABELS, waiting_bands, waiting_list

logger = logging.getLogger(__name__)
TREND_MONTHS = 12
KEPT_DASHBOARDS = 64
"""Computed dashboards kept (a few tables each): every view a manager flips between."""
KEPT_RECORDS = 16
"""Prepared records kept, per trust and modality (together no bigger than a few whole ones)."""
_S = RequestState


@dataclass(frozen=True)
class DashboardFilters:
    month: Month
    trust_id: str | None = None
    modality: str | None = None


@dataclass(frozen=True, eq=False)
class Dashboard:
    """Every table the dashboard shows; each is also a CSV download (`tables`). Compared by
    identity: pages keep what they drew from one per object."""

    filters: DashboardFilters
    read_at: datetime
    """When the record was read: changes since appear once a background read finishes."""
    months: tuple[str, ...]
    """Months a manager may choose, newest first."""
    trusts: tuple[tuple[str, str], ...]
    """(trust_id, name) of every trust."""
    modalities: tuple[str, ...]
    waiting_trend: pd.DataFrame
    turnaround_trend: pd.DataFrame
    attendance_trend: pd.DataFrame
    dm01_bands: pd.DataFrame
    utilisation: pd.DataFrame
    trust_figures: pd.DataFrame
    variation: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}


TABLES = ("waiting_trend", "turnaround_trend", "attendance_trend", "dm01_bands", "utilisation",
          "trust_figures", "variation")


def dashboard_filters(database: Database, today: date, month: str | None = None,
                      trust_id: str | None = None, modality: str | None = None
                      ) -> DashboardFilters:
    """Filters checked against the record; a bad one raises InvalidInput naming its field.
    Without a month, the last full month."""
    inputs, _ = _reader(database.engine).inputs()
    chosen = _last_full_month(today)
    if month:
        try:
            chosen = Month.parse(month)
        except ReportingError:
            raise InvalidInput("Enter the month as YYYY-MM, for example 2026-10",
                               "month") from None
        if chosen.label not in available_months(inputs, today):
            raise InvalidInput("Choose a month from the list", "month")
    if trust_id and trust_id not in set(inputs.trusts.trust_id.astype(str)):
        raise InvalidInput("Choose a trust from the list", "trust")
    if modality and modality not in {m.value for m in Modality}:
        raise InvalidInput("Choose a modality from the list", "modality")
    return DashboardFilters(chosen, trust_id or None, modality or None)


def manager_dashboard(database: Database, filters: DashboardFilters, today: date) -> Dashboard:
    """The dashboard for `filters` (computed once per version of the record)."""
    return _reader(database.engine).dashboard(filters, today)


def available_months(inputs: ReportInputs, today: date) -> tuple[str, ...]:
    """From the month of the first request received to this month, newest first."""
    this_month = Month(today.year, today.month)
    first = this_month
    if len(inputs.requests):
        earliest = inputs.requests.received_at.min().tz_convert("Europe/London")
        first = min(Month(earliest.year, earliest.month), this_month,
                    key=lambda m: (m.year, m.month))
    months = [first]
    while months[-1] != this_month:
        months.append(months[-1].next())
    return tuple(m.label for m in reversed(months))


class _DashboardReader:
    """The frames of one database and the dashboards computed from them. The first read is
    waited for; after that a change in the record starts a read in the background and pages
    go on showing the figures as of the last read (their `read_at`) until it is done."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._first_read = threading.Lock()
        self._version: tuple | None = None
        self._inputs: ReportInputs | None = None
        self._read_at: datetime | None = None
        self._refreshing = False
        self._dashboards: OrderedDict[tuple, Dashboard] = OrderedDict()
        self._records: OrderedDict[tuple, Record] = OrderedDict()

    def inputs(self) -> tuple[ReportInputs, datetime]:
        version = _version(self._engine)
        with self._lock:
            if self._inputs is not None and self._read_at is not None:
                if version != self._version and not self._refreshing:
                    self._refreshing = True
                    threading.Thread(target=self._refresh, args=(version,), daemon=True,
                                     name="dashboard-frames").start()
                return self._inputs, self._read_at
        with self._first_read:  # one first read, however many pages wait for it
            with self._lock:
                if self._inputs is not None and self._read_at is not None:
                    return self._inputs, self._read_at
            self._store(version, service_inputs(self._engine))
            assert self._inputs is not None and self._read_at is not None
            return self._inputs, self._read_at

    def dashboard(self, filters: DashboardFilters, today: date) -> Dashboard:
        inputs, read_at = self.inputs()
        key = (filters, today)
        with self._lock:
            if key in self._dashboards and self._inputs is inputs:
                self._dashboards.move_to_end(key)
                return self._dashboards[key]
        made = _compute(inputs, filters, today, read_at,
                        lambda trust, modality: self._prepared(inputs, trust, modality))
        with self._lock:
            if self._inputs is inputs:
                self._dashboards[key] = made
                while len(self._dashboards) > KEPT_DASHBOARDS:
                    self._dashboards.popitem(last=False)
        return made

    def _prepared(self, inputs: ReportInputs, trust_id: str | None,
                  modality: str | None) -> Record:
        """The prepared record of a part of the inputs, kept for the next filter with it."""
        key = (trust_id, modality)
        with self._lock:
            if self._inputs is inputs and key in self._records:
                self._records.move_to_end(key)
                return self._records[key]
        record = prepare(inputs_for(inputs, trust_id, modality))
        with self._lock:
            if self._inputs is inputs:
                self._records[key] = record
                while len(self._records) > KEPT_RECORDS:
                    self._records.popitem(last=False)
        return record

    def _refresh(self, version: tuple) -> None:
        try:
            self._store(version, service_inputs(self._engine))
        except Exception:  # the figures already shown stay; the next page tries again
            logger.exception("reading the report frames failed")
        finally:
            with self._lock:
                self._refreshing = False

    def _store(self, version: tuple, inputs: ReportInputs) -> None:
        with self._lock:
            self._inputs, self._version = inputs, version
            self._read_at = datetime.now(UTC)
            self._dashboards.clear()
            self._records.clear()


_READERS: weakref.WeakKeyDictionary[Engine, _DashboardReader] = weakref.WeakKeyDictionary()
_READERS_LOCK = threading.Lock()


def _reader(engine: Engine) -> _DashboardReader:
    with _READERS_LOCK:
        if engine not in _READERS:
            _READERS[engine] = _DashboardReader(engine)
        return _READERS[engine]


def _version(engine: Engine) -> tuple:
    """What changes whenever a figure could: newest event, appointment and slot changes,
    sessions and requests."""
    query = sa.select(
        sa.select(sa.func.max(RequestEvent.id)).scalar_subquery(),
        sa.select(sa.func.max(Appointment.change_seq)).scalar_subquery(),
        sa.select(sa.func.max(Slot.change_seq)).scalar_subquery(),
        sa.select(sa.func.max(DiarySession.id)).scalar_subquery(),
        sa.select(sa.func.max(Request.id)).scalar_subquery())
    with read_only(engine).connect() as connection:
        return tuple(connection.execute(query).one())


def _last_full_month(today: date) -> Month:
    previous = Month(today.year, today.month)
    year, month = (previous.year - 1, 12) if previous.month == 1 else (
        previous.year, previous.month - 1)
    return Month(year, month)


def _compute(inputs: ReportInputs, filters: DashboardFilters, today: date,
             read_at: datetime, prepared: Callable[[str | None, str | None], Record]
             ) -> Dashboard:
    month = filters.month
    narrowed = prepared(filters.trust_id, filters.modality)
    across_trusts = prepared(None, filters.modality)
    months = _months_up_to(month)
    trusts = _trust_figures(across_trusts, month, inputs)
    return Dashboard(
        filters=filters, read_at=read_at, months=available_months(inputs, today),
        trusts=tuple(zip(inputs.trusts.trust_id.astype(str), inputs.trusts.name.astype(str),
                         strict=True)),
        modalities=tuple(m.value for m in Modality),
        waiting_trend=_waiting_trend(narrowed, months),
        turnaround_trend=_turnaround_trend(narrowed, months),
        attendance_trend=_attendance_trend(narrowed, months),
        dm01_bands=_dm01_bands(narrowed, month),
        utilisation=_utilisation(narrowed, month),
        trust_figures=trusts, variation=_variation(trusts))


def _months_up_to(month: Month) -> list[Month]:
    months = [month]
    for _ in range(TREND_MONTHS - 1):
        first = months[0].first_day
        year, number = (first.year - 1, 12) if first.month == 1 else (first.year,
                                                                      first.month - 1)
        months.insert(0, Month(year, number))
    return months


def _waiting_trend(record: Record, months: list[Month]) -> pd.DataFrame:
    rows = []
    for month in months:
        weeks = waiting_list(record, month.last_day).weeks_waited.to_numpy()
        total, six = len(weeks), int((weeks >= 6).sum())
        rows.append({"month": month.label, "census_date": month.last_day.isoformat(),
                     "waiting_list": total, "waiting_6plus_weeks": six,
                     "waiting_13plus_weeks": int((weeks >= 13).sum()),
                     "share_waiting_6plus_weeks": round(six / total, 4) if total else 0.0})
    return pd.DataFrame(rows)


def _turnaround_trend(record: Record, months: list[Month]) -> pd.DataFrame:
    window = (months[0].start_ns, months[-1].end_ns)
    found = turnaround(record, pairs=[(_S.RECEIVED, _S.ATTENDED), (_S.RECEIVED, _S.APPOINTED)],
                       window=window, dimensions=("network",))
    frame = pd.DataFrame({"month": [m.label for m in months]})
    for (start, end), name in (((_S.RECEIVED, _S.APPOINTED), "received_to_booked"),
                               ((_S.RECEIVED, _S.ATTENDED), "received_to_test")):
        part = found[(found.from_state == start.value) & (found.to_state == end.value)]
        part = part.set_index("month").reindex(frame.month)
        frame[f"{name}_intervals"] = part.intervals.fillna(0).astype(int).to_numpy()
        frame[f"{name}_median_days"] = part.median_days.astype(float).round(2).to_numpy()
        frame[f"{name}_p90_days"] = part.p90_days.astype(float).round(2).to_numpy()
    return frame


def _attendance_trend(record: Record, months: list[Month]) -> pd.DataFrame:
    seen = attendance(record, (months[0].start_ns, months[-1].end_ns), dimensions=("month",))
    seen = seen.set_index("group").reindex([m.label for m in months])
    frame = pd.DataFrame({"month": [m.label for m in months]})
    for column in ("appointments", "attended", "dna", "cancelled", "freed_48h", "backfilled"):
        frame[column] = seen[column].fillna(0).astype(int).to_numpy()
    for column in ("dna_rate", "cancellation_rate", "backfill_fill_rate"):
        frame[column] = pd.to_numeric(seen[column]).round(4).to_numpy()
    return frame


def _dm01_bands(record: Record, month: Month) -> pd.DataFrame:
    waiting = waiting_list(record, month.last_day)
    bands = waiting_bands(waiting, ("test",))
    if bands.empty:
        return pd.DataFrame(columns=["test", *BAND_LABELS, "Total Waiting List",
                                     "Waiting 6+ Weeks", "Share Waiting 6+ Weeks"])
    bands["Share Waiting 6+ Weeks"] = bands["Share Waiting 6+ Weeks"].round(4)
    return bands.drop(columns=["Waiting 13+ Weeks"])


def _utilisation(record: Record, month: Month) -> pd.DataFrame:
    sessions = session_utilisation(record, (month.start_ns, month.end_ns))
    used = modality_utilisation(sessions, ("network",))
    columns = ["modality", "sessions", "session_minutes", "booked_minutes", "attended_minutes",
               "booked_share", "attended_share"]
    if used.empty:
        return pd.DataFrame(columns=columns)
    return used[columns].round({"booked_share": 4, "attended_share": 4})


def _trust_figures(record: Record, month: Month, inputs: ReportInputs) -> pd.DataFrame:
    """One row per trust: the month's figures the variation between trusts spreads."""
    window = (month.start_ns, month.end_ns)
    names = inputs.trusts.set_index(inputs.trusts.trust_id.astype(str)).name.astype(str)
    bands = waiting_bands(waiting_list(record, month.last_day), ("trust",)).set_index("trust")
    turn = turnaround(record, pairs=[(_S.RECEIVED, _S.ATTENDED)], window=window,
                      dimensions=("trust",)).set_index("group")
    sessions = session_utilisation(record, window)
    used = trust_utilisation(sessions).set_index("group") if len(sessions) else None
    seen = attendance(record, window, dimensions=("trust",)).set_index("group")
    index = names.index
    frame = pd.DataFrame({"trust": index, "name": names.to_numpy()})
    frame["waiting_list"] = bands["Total Waiting List"].reindex(index).fillna(0).astype(
        int).to_numpy()
    frame["share_waiting_6plus_weeks"] = _column(bands, "Share Waiting 6+ Weeks", index)
    frame["median_days_received_to_test"] = _column(turn, "median_days", index, 2)
    frame["p90_days_received_to_test"] = _column(turn, "p90_days", index, 2)
    frame["booked_share_of_session_minutes"] = _column(used, "booked_share", index)
    frame["attended_share_of_booked_minutes"] = _column(used, "attended_share", index)
    frame["dna_rate"] = _column(seen, "dna_rate", index)
    frame["cancellation_rate"] = _column(seen, "cancellation_rate", index)
    frame["backfill_fill_rate"] = _column(seen, "backfill_fill_rate", index)
    return frame


def _column(table: pd.DataFrame | None, name: str, index: pd.Index,
            places: int = 4) -> pd.Series:
    if table is None or name not in table.columns:
        return pd.Series(float("nan"), index=range(len(index)))
    values = pd.to_numeric(table[name], errors="coerce").reindex(index).round(places)
    return pd.Series(values.to_numpy(dtype=float))


def _variation(trusts: pd.DataFrame) -> pd.DataFrame:
    """The spread between trusts of each figure of the trust table."""
    by_trust = trusts.set_index("trust")
    spread = spread_between_trusts({name: by_trust[name] for name in VARIED})
    numbers = [c for c in spread.select_dtypes("number").columns if c != "trusts"]
    return spread.assign(**{c: spread[c].astype(float).round(4) for c in numbers})


VARIED = ("share_waiting_6plus_weeks", "waiting_list", "median_days_received_to_test",
          "p90_days_received_to_test", "booked_share_of_session_minutes",
          "attended_share_of_booked_minutes", "dna_rate", "cancellation_rate",
          "backfill_fill_rate")

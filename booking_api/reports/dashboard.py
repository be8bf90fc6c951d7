"""The manager dashboard's read model: a month's figures, and the trends of the twelve months
up to it, for the whole network or narrowed to a trust and/or a modality, as plain tables a
page draws and offers as CSV.

Reading the whole record from the database takes seconds at network scale, and a manager's
page must answer in well under one: the frames and computed dashboards are kept in memory per
database (`dashboard_cache`), read as the service starts and again in the background when the
record changed; pages never wait for a read beyond a short `wait_s`."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine

from booking_api.core.db import Database
from booking_api.core.errors import InvalidInput
from booking_api.reports.dashboard_cache import DashboardCache, FiguresNotReady
from domain.lifecycle import RequestState
from domain.vocabulary import Modality
from reporting.attendance import attendance
from reporting.errors import ReportingError
from reporting.inputs import ReportInputs
from reporting.london import Month
from reporting.record import Record
from reporting.turnaround import turnaround
from reporting.utilisation import (
    modality_utilisation,
    session_utilisation,
    trust_utilisation,
)
from reporting.variation import spread_between_trusts
from reporting.waiting_list import BAND_LABELS, waiting_bands, waiting_list

TREND_MONTHS = 12
_S = RequestState
__all__ = ["TABLES", "Dashboard", "DashboardFilters", "FiguresNotReady", "available_months",
           "dashboard_filters", "manager_dashboard", "warm_dashboard", "when_computed"]


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
                      trust_id: str | None = None, modality: str | None = None,
                      wait_s: float | None = None) -> DashboardFilters:
    """Filters checked against the record; a bad one raises InvalidInput naming its field.
    Without a month, the last full month. FiguresNotReady if the record's first read is not
    done within `wait_s` (None: wait for it)."""
    inputs, _ = _cache(database.engine).inputs(wait_s)
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


def manager_dashboard(database: Database, filters: DashboardFilters, today: date,
                      wait_s: float | None = None) -> Dashboard:
    """The dashboard for `filters` (computed once per read of the record); FiguresNotReady
    if the record's first read is not done within `wait_s` (None: wait for it)."""
    return _cache(database.engine).dashboard(filters, today, wait_s)


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


_CACHES: weakref.WeakKeyDictionary[Engine, DashboardCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()
_LISTENERS: list[Callable[[Dashboard], None]] = []


def when_computed(listener: Callable[[Dashboard], None]) -> Callable[[], None]:
    """Call `listener` with every dashboard computed in the background (at start, on the
    schedule, after a change): the console draws its charts ahead. Added once however often
    asked; returns what takes it off again."""
    with _CACHES_LOCK:
        if not any(known is listener for known in _LISTENERS):
            _LISTENERS.append(listener)

    def forget() -> None:
        with _CACHES_LOCK:
            _LISTENERS[:] = [known for known in _LISTENERS if known is not listener]
    return forget


def warm_dashboard(database: Database, today: Callable[[], date]) -> None:
    """Read the record (again, if it changed) and compute the default view and each
    modality's of the last full month: the service's start and its schedule call this, so a
    manager's first page finds the figures made."""
    def views() -> list[DashboardFilters]:
        month = _last_full_month(today())
        return [DashboardFilters(month), *(DashboardFilters(month, None, m.value)
                                           for m in Modality)]
    _cache(database.engine).warm(views, today)


def _cache(engine: Engine) -> DashboardCache:
    with _CACHES_LOCK:
        if engine not in _CACHES:
            cache = DashboardCache(engine, _compute)
            cache.listeners = _LISTENERS
            _CACHES[engine] = cache
        return _CACHES[engine]


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

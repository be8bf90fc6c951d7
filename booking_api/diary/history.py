"""A trust's demand history brought into the service (`cdip history import`): the export is
read and checked in the documented schema (docs/history-schema.md), cut to whole weeks, and
kept as request counts per week, family, area, priority and age band. No patient row is kept:
planning needs counts only. A later import replaces the weeks it covers; a bad export changes
nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import String, delete, select, type_coerce
from sqlmodel import Session, col

from booking_api.audit.services import Actor, record_audit
from booking_api.diary.models import HistoryDemand, HistoryImport
from domain.data_files import DataFileError
from domain.exams import load_exam_catalogue
from domain.history import REQUESTS_FILE, History, read_history
from domain.network import Network
from forecasting.diary_demand import age_bands

COUNT_COLUMNS = ["week_start", "exam_family", "area_id", "priority", "age_band"]


@dataclass(frozen=True)
class WeeklyHistory:
    """An export counted per whole week, ready to store."""

    source: str
    counts: pd.DataFrame  # COUNT_COLUMNS + requests
    first_week: date
    last_week: date
    requests: int
    dropped_requests: int
    """Requests in part-weeks at either end, left out so a part-week does not look like a fall
    in demand."""


def read_weekly_history(folder: Path, network: Network) -> WeeklyHistory:
    """Read and check an export, then count it per whole week; DataFileError (naming file,
    row and column) on the first bad cell."""
    sites = {site.site_id for site in network.sites}
    history = read_history(folder, exam_codes=set(load_exam_catalogue()), site_ids=sites)
    _check_areas(Path(folder) / REQUESTS_FILE, history, {a.area_id for a in network.demand_areas})
    requests = history.requests
    if requests.empty:
        raise DataFileError(Path(folder) / REQUESTS_FILE, "no requests: nothing to plan from")
    received = pd.to_datetime(requests["received_date"])
    monday = (received - pd.to_timedelta(received.dt.day_of_week, unit="D")).dt.normalize()
    first, last = _whole_weeks(received.min(), received.max())
    whole = (monday >= first) & (monday <= last)
    if not whole.any():
        raise DataFileError(Path(folder) / REQUESTS_FILE,
                            "covers no whole week (Monday to at least Friday)", None,
                            "received_date")
    frame = pd.DataFrame({
        "week_start": monday[whole].dt.date, "exam_family": requests["exam_family"][whole],
        "area_id": requests["area_id"][whole], "priority": requests["priority"][whole],
        "age_band": age_bands(requests, history.patients)[whole]}).astype(
        {"exam_family": str, "area_id": str, "priority": str, "age_band": str})
    counts = frame.groupby(COUNT_COLUMNS).size().rename("requests").reset_index()
    return WeeklyHistory(str(folder), counts, first.date(), last.date(), int(whole.sum()),
                         int((~whole).sum()))


def store_weekly_history(session: Session, actor: Actor, history: WeeklyHistory) -> int:
    """Keep the counts, replacing any earlier import's rows for the same weeks; returns the
    import's id."""
    session.execute(delete(HistoryDemand).where(
        col(HistoryDemand.week_start) >= history.first_week,
        col(HistoryDemand.week_start) <= history.last_week))
    record = HistoryImport(source=history.source[-500:], first_date=history.first_week,
                           last_date=history.last_week + timedelta(days=6),
                           requests=history.requests, imported_by=actor.name)
    session.add(record)
    session.flush()
    _insert_counts(session, record.id, history.counts)
    record_audit(session, actor, "history.imported", "history_import", record.id,
                 after={"first_week": history.first_week.isoformat(),
                        "last_week": history.last_week.isoformat(),
                        "requests": history.requests, "rows": len(history.counts)})
    return record.id


def _insert_counts(session: Session, import_id: int, counts: pd.DataFrame) -> None:
    """Hundreds of thousands of rows: plain tuples through the driver's executemany (the ORM's
    per-row type handling took most of a minute on SQLite). The codes are already the stored
    values."""
    columns = ["import_id", *COUNT_COLUMNS, "requests"]
    frame = counts.assign(import_id=import_id)[columns]
    qmark = session.bind.dialect.paramstyle == "qmark"  # SQLite; psycopg takes %s
    weeks = [w.isoformat() if qmark else w for w in frame["week_start"].tolist()]
    rows = list(zip(frame["import_id"].astype(int).tolist(), weeks,
                    *(frame[c].astype(str).tolist() for c in COUNT_COLUMNS[1:]),
                    frame["requests"].astype(int).tolist(), strict=True))
    marks = ", ".join(["?" if qmark else "%s"] * len(columns))
    statement = f"INSERT INTO history_demand ({', '.join(columns)}) VALUES ({marks})"
    connection = session.connection()
    for start in range(0, len(rows), 50_000):
        connection.exec_driver_sql(statement, rows[start:start + 50_000])


def imported_weekly_counts(session: Session) -> pd.DataFrame:
    """Every stored week's counts (COUNT_COLUMNS + requests), the codes as stored (plain
    strings). Read as text and built column by column: enum members mapped back to their codes
    row by row took most of the diary build's reading (a demo's 312,000 rows: 3.8 s -> 1.6 s)."""
    rows = session.execute(select(
        HistoryDemand.week_start, type_coerce(HistoryDemand.exam_family, String),
        HistoryDemand.area_id, type_coerce(HistoryDemand.priority, String),
        type_coerce(HistoryDemand.age_band, String), HistoryDemand.requests)).all()
    names = [*COUNT_COLUMNS, "requests"]
    if not rows:
        return pd.DataFrame(columns=names)
    return pd.DataFrame(dict(zip(names, zip(*rows, strict=True), strict=True)))


def _whole_weeks(first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Mondays of the first and last whole weeks: a week counts when the history covers it
    from its Monday to at least its Friday (many services receive nothing at weekends)."""
    first_monday = first.normalize() + pd.Timedelta(days=(7 - first.weekday()) % 7)
    last_monday = last.normalize() - pd.Timedelta(days=last.weekday())
    if last.weekday() < 4:
        last_monday -= pd.Timedelta(days=7)
    return first_monday, last_monday


def _check_areas(path: Path, history: History, areas: set[str]) -> None:
    unknown = ~history.requests["area_id"].astype(str).isin(areas)
    if unknown.any():
        row = int(unknown.to_numpy().nonzero()[0][0])
        area = history.requests["area_id"].iloc[row]
        raise DataFileError(path, f"no demand area '{area}' in the network", row + 2, "area_id")

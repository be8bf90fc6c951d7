"""A month's figures for managers, computed together from one prepared record: turnaround
between request states, the DM01 waiting list at the month end, utilisation, DNA and
cancellation rates, the spread of each between trusts, and demand against capacity for the
weeks after the month. `write_figures` saves each table as a CSV file."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from domain.lifecycle import RequestState
from reporting.attendance import attendance
from reporting.demand_capacity import demand_and_capacity
from reporting.london import Month
from reporting.record import Record
from reporting.turnaround import turnaround
from reporting.utilisation import (
    modality_utilisation,
    room_utilisation,
    session_utilisation,
    trust_utilisation,
)
from reporting.variation import spread_between_trusts
from reporting.waiting_list import census_instant, waiting_bands, waiting_list

WAITING_GROUPS = (("network",), ("ics",), ("trust",), ("modality",), ("test",), ("trust", "test"))


@dataclass(frozen=True)
class MonthFigures:
    month: str
    turnaround: pd.DataFrame
    waiting_list: pd.DataFrame
    session_utilisation: pd.DataFrame
    room_utilisation: pd.DataFrame
    modality_utilisation: pd.DataFrame
    attendance: pd.DataFrame
    variation: pd.DataFrame
    demand_capacity: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "month"}


def month_figures(record: Record, month: Month, counting: str = "first",
                  reset_clock: bool = True, weeks_ahead: int = 6) -> MonthFigures:
    window = (month.start_ns, month.end_ns)
    turn = turnaround(record, window=window, counting=counting)
    waiting = waiting_list(record, month.last_day, reset_clock=reset_clock)
    bands = _waiting_tables(waiting)
    sessions = session_utilisation(record, window)
    seen = attendance(record, window)
    return MonthFigures(
        month=month.label, turnaround=turn, waiting_list=bands,
        session_utilisation=sessions, room_utilisation=room_utilisation(record, window, sessions),
        modality_utilisation=modality_utilisation(sessions), attendance=seen,
        variation=_variation(turn, bands, sessions, seen),
        demand_capacity=demand_and_capacity(record, census_instant(month.last_day), weeks_ahead),
    )


def write_figures(figures: MonthFigures, folder: Path) -> list[Path]:
    """One CSV per table, named `<table>-<month>.csv`; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in figures.tables().items():
        path = folder / f"{name}-{figures.month}.csv"
        table.to_csv(path, index=False)
        written.append(path)
    return written


def _waiting_tables(waiting: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for keys in WAITING_GROUPS:
        part = waiting_bands(waiting, keys if keys != ("network",) else ())
        part.insert(0, "by", "+".join(keys))
        names = part[list(keys)].astype(str)
        group = names.iloc[:, 0]
        for key in keys[1:]:
            group = group + "/" + names[key]
        part.insert(1, "group", group)
        parts.append(part.drop(columns=list(keys)))
    return pd.concat(parts, ignore_index=True)


def _variation(turn: pd.DataFrame, bands: pd.DataFrame, sessions: pd.DataFrame,
               seen: pd.DataFrame) -> pd.DataFrame:
    by_trust = bands[bands.by == "trust"].set_index("group")
    to_test = turn[(turn.by == "trust") & (turn.from_state == RequestState.RECEIVED.value)
                   & (turn.to_state == RequestState.ATTENDED.value)].set_index("group")
    used = trust_utilisation(sessions).set_index("group")
    rates = seen[seen.by == "trust"].set_index("group")
    return spread_between_trusts({
        "share_waiting_6plus_weeks": by_trust["Share Waiting 6+ Weeks"],
        "waiting_list": by_trust["Total Waiting List"],
        "median_days_received_to_attended": to_test["median_days"],
        "p90_days_received_to_attended": to_test["p90_days"],
        "booked_share_of_session_minutes": used["booked_share"],
        "attended_share_of_booked_minutes": used["attended_share"],
        "dna_rate": rates["dna_rate"],
        "cancellation_rate": rates["cancellation_rate"],
    })

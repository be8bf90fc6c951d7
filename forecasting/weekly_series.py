"""Weekly request counts per exam family × demand area, as one dense panel (series × weeks) so
every model works on numpy arrays instead of looping over series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


class HistoryTooShortError(ValueError):
    """The history does not hold enough whole weeks for what was asked."""


@dataclass(frozen=True)
class WeeklyPanel:
    """Counts[s, w]: requests received in week w (Monday start) for series s."""

    families: np.ndarray  # exam family of each series
    areas: np.ndarray  # demand area of each series
    weeks: pd.DatetimeIndex  # Monday of each week, consecutive
    counts: np.ndarray  # float array, series × weeks

    @property
    def n_series(self) -> int:
        return len(self.families)

    @property
    def n_weeks(self) -> int:
        return len(self.weeks)

    def up_to(self, end: int) -> WeeklyPanel:
        """The same series truncated to the first `end` weeks (what is known at an origin)."""
        return WeeklyPanel(self.families, self.areas, self.weeks[:end], self.counts[:, :end])

    def keys(self) -> pd.DataFrame:
        return pd.DataFrame({"exam_family": self.families, "area_id": self.areas})


def week_start(dates: pd.Series) -> pd.Series:
    """Monday of the week each date falls in."""
    days = pd.to_datetime(dates)
    return (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.normalize()


def weekly_panel(requests: pd.DataFrame) -> WeeklyPanel:
    """Count requests per family × area × whole week of the history.

    Only whole weeks count: a week the history starts or ends inside would look like a drop in
    demand. The history is taken to end at its last request; a final week that reaches its Friday
    counts as whole (many services receive no requests at weekends). Every family × area pair
    seen at least once is a series; weeks without a request are 0.
    """
    received = pd.to_datetime(requests["received_date"])
    first, last = received.min(), received.max()
    first_monday = first.normalize() + pd.Timedelta(days=(7 - first.weekday()) % 7)
    last_monday = last.normalize() - pd.Timedelta(days=last.weekday())
    if last.weekday() < 4:
        last_monday -= pd.Timedelta(days=7)
    if last_monday < first_monday:
        raise HistoryTooShortError("requests.csv covers no whole week (Monday to Sunday)")
    weeks = pd.date_range(first_monday, last_monday, freq="7D")
    frame = pd.DataFrame({
        "exam_family": requests["exam_family"].astype(str).to_numpy(),
        "area_id": requests["area_id"].astype(str).to_numpy(),
        "week": week_start(received).to_numpy(),
    })
    keys = frame[["exam_family", "area_id"]].drop_duplicates().sort_values(
        ["exam_family", "area_id"]).reset_index(drop=True)
    frame = frame[(frame["week"] >= first_monday) & (frame["week"] <= last_monday)]
    series_index = pd.MultiIndex.from_frame(keys).get_indexer(
        pd.MultiIndex.from_frame(frame[["exam_family", "area_id"]]))
    week_index = ((frame["week"] - first_monday).dt.days // 7).to_numpy()
    counts = np.zeros((len(keys), len(weeks)))
    np.add.at(counts, (series_index, week_index), 1.0)
    return WeeklyPanel(keys["exam_family"].to_numpy(), keys["area_id"].to_numpy(), weeks, counts)


def panel_of_weekly_counts(counts: pd.DataFrame) -> WeeklyPanel:
    """The panel from requests already counted per whole week (week_start, a Monday;
    exam_family; area_id; requests), as a service stores an export. Weeks run from the first
    to the last given; a week with no row for a series is 0."""
    if counts.empty:
        raise HistoryTooShortError("no weekly counts: the history is empty")
    starts = pd.to_datetime(counts["week_start"])
    if (starts.dt.day_of_week != 0).any():
        raise ValueError("week_start: every week must start on a Monday")
    weeks = pd.date_range(starts.min(), starts.max(), freq="7D")
    keys = counts[["exam_family", "area_id"]].astype(str).drop_duplicates().sort_values(
        ["exam_family", "area_id"]).reset_index(drop=True)
    series_index = pd.MultiIndex.from_frame(keys).get_indexer(
        pd.MultiIndex.from_frame(counts[["exam_family", "area_id"]].astype(str)))
    week_index = ((starts - starts.min()).dt.days // 7).to_numpy()
    panel = np.zeros((len(keys), len(weeks)))
    np.add.at(panel, (series_index, week_index), counts["requests"].to_numpy(dtype=float))
    return WeeklyPanel(keys["exam_family"].to_numpy(), keys["area_id"].to_numpy(), weeks, panel)


def expected_panel(expected: pd.DataFrame, panel: WeeklyPanel) -> np.ndarray:
    """The truth's expected demand aligned to a panel's series and weeks (NaN where absent)."""
    frame = expected.assign(week=pd.to_datetime(expected["week_start"]))
    series_index = pd.MultiIndex.from_arrays([panel.families, panel.areas]).get_indexer(
        pd.MultiIndex.from_arrays([frame["exam_family"].astype(str),
                                   frame["area_id"].astype(str)]))
    week_index = panel.weeks.get_indexer(frame["week"])
    keep = (series_index >= 0) & (week_index >= 0)
    aligned = np.full(panel.counts.shape, np.nan)
    aligned[series_index[keep], week_index[keep]] = frame["expected"].to_numpy(float)[keep]
    return aligned

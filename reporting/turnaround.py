"""Turnaround between two request states: how long requests took from entering one state to
entering another, as median and 90th percentile in days, by modality, trust, site, priority
and month.

A request's log can go backwards (appointed → appointable after a cancellation, dna →
appointable, waiting → appointable and back). Two ways to count, both on elapsed UTC time:

- `first` (the default, the patient's view): one interval per request, from the FIRST time it
  entered `start` to the first time after that it entered `end`. Moving backwards never
  restarts the clock: received → attended includes every rebooking.
- `latest` (the department's view): one interval per entry into `end` that follows an entry
  into `start`, measured from the most recent entry into `start` before it. A patient who
  cancels gives two appointable → appointed intervals (first booking, rebooking), and
  appointed → attended runs from the booking that was attended.

An interval belongs to the UK calendar month in which it ends. Its site is the site of the
request's latest appointment (where the test happened or is booked; "none" if it has no
appointment). Percentiles interpolate linearly between ranks (numpy's default)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.lifecycle import RequestState
from reporting.london import NS_PER_DAY, local_days
from reporting.record import MODALITIES, PRIORITIES, Record, state_code

_S = RequestState
PATHWAY_PAIRS: tuple[tuple[RequestState, RequestState], ...] = (
    (_S.RECEIVED, _S.JUSTIFIED),
    (_S.JUSTIFIED, _S.APPOINTABLE),
    (_S.APPOINTABLE, _S.APPOINTED),
    (_S.APPOINTED, _S.ATTENDED),
    (_S.ATTENDED, _S.REPORTED),
    (_S.RECEIVED, _S.ATTENDED),
    (_S.RECEIVED, _S.REPORTED),
)
"""The pairs a month's figures report: each step of the pathway, referral to test, and
referral to report."""

DIMENSIONS = ("network", "modality", "trust", "site", "priority")
COUNTING = ("first", "latest")


@dataclass(frozen=True)
class Intervals:
    """One row per interval: request position, start and end instants (ns)."""

    request: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @property
    def days(self) -> np.ndarray:
        return (self.end - self.start) / NS_PER_DAY


def intervals(record: Record, start: RequestState, end: RequestState,
              window: tuple[int, int] | None = None, counting: str = "first") -> Intervals:
    """Intervals from `start` to `end` whose end falls in [window) (UTC ns; all if None)."""
    if counting not in COUNTING:
        raise ValueError(f"counting must be one of {', '.join(COUNTING)}, not '{counting}'")
    request, at, state = _events_of_requests_ending_in(record, end, window)
    if counting == "first":
        found = _first_then_first(request, at, state, state_code(start), state_code(end))
    else:
        found = _latest_start(request, at, state, state_code(start), state_code(end))
    if window is not None:
        keep = (found.end >= window[0]) & (found.end < window[1])
        found = Intervals(found.request[keep], found.start[keep], found.end[keep])
    return found


def turnaround(record: Record, pairs: Sequence[tuple[RequestState, RequestState]] = PATHWAY_PAIRS,
               window: tuple[int, int] | None = None, counting: str = "first",
               dimensions: Sequence[str] = DIMENSIONS) -> pd.DataFrame:
    """Median and p90 days per pair and group: columns from_state, to_state, by, group,
    month, intervals, median_days, p90_days."""
    frames = []
    site = latest_site(record)
    for start, end in pairs:
        found = intervals(record, start, end, window, counting)
        rows = _labels(record, found, site)
        rows["days"] = found.days
        for dimension in dimensions:
            frames.append(_summary(rows, dimension).assign(from_state=start.value,
                                                           to_state=end.value))
    columns = ["from_state", "to_state", "by", "group", "month", "intervals", "median_days",
               "p90_days"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def latest_site(record: Record) -> np.ndarray:
    """Site position of each request's latest appointment (by start), -1 if none."""
    a = record.appointments
    latest = np.full(len(record.requests.exam), np.iinfo(np.int64).min, np.int64)
    np.maximum.at(latest, a.request, a.start)
    last = a.start == latest[a.request]  # ties at one instant: any of them
    site = np.full(len(record.requests.exam), -1, np.int64)
    site[a.request[last]] = record.tables.room_site[a.room[last]]
    return site


def _events_of_requests_ending_in(record: Record, end: RequestState,
                                  window: tuple[int, int] | None
                                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All events of the requests that entered `end` inside the window (every event of every
    request without a window): the earlier events are needed to find where the clock starts."""
    e = record.events
    if window is None:
        return e.request, e.at, e.state
    key = ("events in window", *window)
    if key not in record.memo:  # one pass over the whole log serves every pair
        record.memo[key] = np.flatnonzero((e.at >= window[0]) & (e.at < window[1]))
    inside = record.memo[key]
    requests = np.unique(e.request[inside[e.state[inside] == state_code(end)]])
    first, last = e.offsets[requests], e.offsets[requests + 1]
    lengths = last - first
    index = np.repeat(first - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(lengths.sum())
    return e.request[index], e.at[index], e.state[index]


def _first_then_first(request: np.ndarray, at: np.ndarray, state: np.ndarray, start: int,
                      end: int) -> Intervals:
    is_start = state == start
    start_request, start_at = _first_per_request(request[is_start], at[is_start])
    clock = np.full(int(request.max()) + 1 if len(request) else 0, np.iinfo(np.int64).max)
    clock[start_request] = start_at
    is_end = state == end
    end_request, end_at = request[is_end], at[is_end]
    after = end_at >= clock[end_request]
    end_request, end_at = _first_per_request(end_request[after], end_at[after])
    return Intervals(end_request, clock[end_request], end_at)


def _latest_start(request: np.ndarray, at: np.ndarray, state: np.ndarray, start: int,
                  end: int) -> Intervals:
    relevant = (state == start) | (state == end)
    request, at, is_start = request[relevant], at[relevant], state[relevant] == start
    same_request = np.r_[False, request[1:] == request[:-1]]
    closes = np.flatnonzero(~is_start & np.r_[False, is_start[:-1]] & same_request)
    return Intervals(request[closes], at[closes - 1], at[closes])


def _first_per_request(request: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Earliest event per request; inputs are sorted by request then time."""
    first = np.r_[True, request[1:] != request[:-1]] if len(request) else np.zeros(0, bool)
    return request[first], at[first]


def _labels(record: Record, found: Intervals, site: np.ndarray) -> pd.DataFrame:
    """Group keys of each interval as categoricals (cheap to build and to group by)."""
    t, r = record.tables, record.requests
    exam = r.exam[found.request]
    site_of = site[found.request]
    site_names = [*t.sites.site_id.astype(str), "none"]
    months = local_days(found.end).astype("datetime64[M]")
    month_values, month_codes = np.unique(months, return_inverse=True)
    return pd.DataFrame({
        "network": pd.Categorical.from_codes(np.zeros(len(exam), np.int8), ["all"]),
        "modality": pd.Categorical.from_codes(t.exam_modality[exam],
                                              [m.value for m in MODALITIES]),
        "trust": pd.Categorical.from_codes(r.trust[found.request],
                                           list(t.trusts.trust_id.astype(str))),
        "site": pd.Categorical.from_codes(np.where(site_of < 0, len(site_names) - 1, site_of),
                                          site_names),
        "priority": pd.Categorical.from_codes(r.priority[found.request],
                                              [p.value for p in PRIORITIES]),
        "month": pd.Categorical.from_codes(month_codes.astype(np.int64),
                                           [str(m) for m in month_values]),
    })


def _summary(rows: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Count, median and p90 per (group, month), ordered as the categories are. Quantiles
    interpolate linearly between ranks as numpy's default does, computed for every group at
    once from one sort (pandas' grouped quantile costs a pass per group)."""
    columns = ["by", "group", "month", "intervals", "median_days", "p90_days"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    groups, months = rows[dimension].cat, rows["month"].cat
    code = groups.codes.to_numpy(np.int64) * len(months.categories) + months.codes.to_numpy(
        np.int64)
    days = rows["days"].to_numpy(dtype=float)
    order = np.lexsort((days, code))
    code, days = code[order], days[order]
    first = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    count = np.diff(np.r_[first, len(code)])
    median, p90 = (_sorted_quantile(days, first, count, q) for q in (0.5, 0.9))
    group_code, month_code = np.divmod(code[first], len(months.categories))
    return pd.DataFrame({
        "by": dimension,
        "group": np.asarray(groups.categories.astype(str))[group_code],
        "month": np.asarray(months.categories.astype(str))[month_code],
        "intervals": count, "median_days": median, "p90_days": p90}, columns=columns)


def _sorted_quantile(values: np.ndarray, first: np.ndarray, count: np.ndarray,
                     q: float) -> np.ndarray:
    """The q-quantile of each run values[first:first + count] (each run sorted)."""
    position = q * (count - 1)
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, count - 1)
    low, high = values[first + below], values[first + above]
    return low + (position - below) * (high - low)

"""A history cut in two at a Monday: what a planner knew then (the requests before it, and the
waiting list on that day) and what came after (the requests received in the weeks planned, and
the true expected demand of those weeks where the history has it). The input of planning from
forecasts and of replaying what really happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from domain.history import History, Outcome
from domain.network import Network
from domain.vocabulary import AgeBand, ExamFamily, Priority
from forecasting.diary_demand import WaitingRequest, age_bands
from forecasting.weekly_series import weekly_panel


class PlanningWorldError(ValueError):
    """A history that cannot be cut as asked; the message says what is missing."""


@dataclass(frozen=True)
class PlanningWorld:
    cutoff: date
    """Monday of the first week planned."""
    weeks: tuple[date, ...]
    """Mondays of the weeks planned."""
    known: pd.DataFrame
    """Requests received before the cut-off (history-schema columns)."""
    patients: pd.DataFrame
    waiting: tuple[WaitingRequest, ...]
    """Requests received before the cut-off and not yet seen on that day."""
    arrivals: tuple[WaitingRequest, ...]
    """Requests received in the weeks planned."""
    expected: pd.DataFrame | None
    """The truth's expected demand for the weeks planned (None for a trust's export)."""


def cut_history(history: History, weeks: int, network: Network | None = None) -> PlanningWorld:
    """The last `weeks` whole weeks of the history are the ones planned; keeps only the
    network's demand areas when a network is given."""
    requests = history.requests
    if network is not None:
        areas = {a.area_id for a in network.demand_areas}
        requests = requests[requests["area_id"].isin(areas)]
    panel = weekly_panel(requests)
    if panel.n_weeks < weeks + 1:
        raise PlanningWorldError(f"the history holds {panel.n_weeks} whole weeks; planning "
                                 f"{weeks} needs at least {weeks + 1}")
    cutoff = panel.weeks[-weeks].date()
    plan_weeks = tuple(cutoff + timedelta(weeks=w) for w in range(weeks))
    received = pd.to_datetime(requests["received_date"])
    start, end = pd.Timestamp(cutoff), pd.Timestamp(plan_weeks[-1] + timedelta(days=7))
    known = requests[received < start]
    later = requests[(received >= start) & (received < end)]
    return PlanningWorld(
        cutoff=cutoff, weeks=plan_weeks, known=known, patients=history.patients,
        waiting=tuple(_records(_waiting_on(known, history.appointments, start),
                               history.patients)),
        arrivals=tuple(_records(later, history.patients)),
        expected=_expected(history, plan_weeks, set(requests["area_id"])))


def _waiting_on(known: pd.DataFrame, appointments: pd.DataFrame,
                day: pd.Timestamp) -> pd.DataFrame:
    """Requests not yet seen on `day`: none attended before it, and either not booked yet or
    booked for it or later (a request whose every appointment came before it without an
    attendance, a DNA not rebooked, has been discharged)."""
    before = appointments["start"] < day
    attended = set(appointments.loc[before & (appointments["outcome"] == Outcome.ATTENDED.value),
                                    "request_id"])
    booked_later = set(appointments.loc[~before, "request_id"])
    booked_ever = set(appointments["request_id"])
    ids = known["request_id"]
    waiting = ~ids.isin(attended) & (ids.isin(booked_later) | ~ids.isin(booked_ever))
    return known[waiting.to_numpy()]


def _records(requests: pd.DataFrame, patients: pd.DataFrame) -> list[WaitingRequest]:
    bands = age_bands(requests, patients)
    due = requests["due_date"]
    return [WaitingRequest(request_id, ExamFamily(family), area, Priority(priority),
                           received.date(), AgeBand(band),
                           None if pd.isna(due_date) else due_date.date())
            for request_id, family, area, priority, received, band, due_date in zip(
                requests["request_id"], requests["exam_family"], requests["area_id"],
                requests["priority"], pd.to_datetime(requests["received_date"]), bands,
                pd.to_datetime(due), strict=True)]


def _expected(history: History, weeks: tuple[date, ...],
              areas: set[str]) -> pd.DataFrame | None:
    if history.truth is None:
        return None
    truth = history.truth.expected_demand
    monday = pd.to_datetime(truth["week_start"]).dt.date
    chosen = truth[np.isin(monday, weeks) & truth["area_id"].isin(areas).to_numpy()]
    return chosen.assign(week_start=pd.to_datetime(chosen["week_start"]).dt.date)

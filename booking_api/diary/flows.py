"""Building and writing diaries for coming weeks: each week is planned from the one before it
(as last week's diary, so little changes), then written in its own transaction. Planning runs
outside any transaction; a week that cannot be written leaves the database as it was."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from booking_api.core.db import transaction
from booking_api.diary.services import DiaryWriteReport, planned_sessions, write_week
from booking_api.network.services import mirror_reference_data
from domain.exams import exam_catalogue
from domain.network import Network
from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffAvailability
from optimiser import DiaryPlan, DiaryProblem, build_diary
from optimiser.problem import DemandRow

DemandSource = Callable[[date], tuple[DemandRow, ...]]
"""Weekly demand for the week starting on a date (a forecast, or the stand-in model)."""
WeekProgress = Callable[[date, str], None]
"""Told as each week moves on: its Monday and "planning", "writing" or "done"."""


@dataclass(frozen=True)
class WeekBuilt:
    week_start: date
    plan: DiaryPlan
    report: DiaryWriteReport


def build_and_write_weeks(engine: Engine, network: Network,
                          templates: Mapping[str, SessionTemplate], demand: DemandSource,
                          first_week: date, weeks: int, *, time_limit_s: float,
                          availability: tuple[StaffAvailability, ...], zone: ZoneInfo,
                          now: datetime, travel_limit_km: float = 50.0,
                          progress: WeekProgress | None = None) -> list[WeekBuilt]:
    def tell(stage: str, monday: date) -> None:
        if progress is not None:
            progress(monday, stage)

    room_sites = {room.room_id: room.site_id for room in network.rooms}
    with transaction(engine) as session:
        mirror_reference_data(session, network, exam_catalogue())
        last = planned_sessions(session, first_week - timedelta(days=7), room_sites)
    built = []
    for number in range(weeks):
        monday = first_week + timedelta(weeks=number)
        tell("planning", monday)
        problem = DiaryProblem(network, templates, monday, demand(monday), availability,
                               travel_limit_km, last)
        plan = build_diary(problem, time_limit_s=time_limit_s)
        tell("writing", monday)
        with transaction(engine) as session:
            report = write_week(session, monday, plan.sessions, templates, room_sites, zone, now)
            last = planned_sessions(session, monday, room_sites)
        built.append(WeekBuilt(monday, plan, report))
        tell("done", monday)
    return built

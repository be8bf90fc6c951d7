"""Building and writing diaries for coming weeks: each week is planned from the one before it
(as last week's diary, so little changes), then written in its own transaction. Planning runs
outside any transaction; a week that cannot be written leaves the database as it was."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from booking_api.audit.services import Actor
from booking_api.core.db import make_session_factory, transaction
from booking_api.core.errors import SlotTaken
from booking_api.diary.repairs import AppliedRepair, apply_repair, repair_problem
from booking_api.diary.services import DiaryWriteReport, planned_sessions, write_week
from booking_api.network.services import mirror_reference_data
from domain.exams import exam_catalogue
from domain.network import Network
from domain.session_templates import SessionTemplate
from domain.staff_availability import StaffAvailability
from optimiser import DiaryPlan, DiaryProblem, build_diary
from optimiser.problem import DemandRow
from optimiser.repair import Disruption, RepairResult, RepairSettings, repair_diary

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


@dataclass(frozen=True)
class RepairRun:
    result: RepairResult
    applied: AppliedRepair | None
    """None for a dry run."""
    attempts: int


def repair_and_apply(engine: Engine, actor: Actor, network: Network,
                     templates: Mapping[str, SessionTemplate],
                     disruptions: Callable[[Session], Sequence[tuple[int | None, Disruption]]],
                     *,
                     now: datetime, dry_run: bool,
                     availability: tuple[StaffAvailability, ...] = (),
                     settings: RepairSettings | None = None, attempts: int = 3,
                     before_apply: Callable[[RepairResult], None] | None = None,
                     ) -> RepairRun:
    """Read the diary, solve the repair outside any transaction, then (unless `dry_run`)
    apply it in one transaction: `disruptions(session)` ((record id or None, disruption)
    pairs) is called inside that transaction too, so a disruption recorded there commits
    with the repair or not at all. When the diary changed meanwhile (SlotTaken), nothing is
    kept and it is read and solved again, up to `attempts` times. `before_apply` sees each
    plan before it is applied."""
    room_sites = {room.room_id: room.site_id for room in network.rooms}
    for attempt in range(1, attempts + 1):
        with make_session_factory(engine)() as session:
            try:  # read only: a disruption recorded here to check it is not kept
                problem = repair_problem(session, network, templates,
                                         [d for _, d in disruptions(session)], now=now,
                                         availability=availability, settings=settings)
            finally:
                session.rollback()
        result = repair_diary(problem, settings or RepairSettings())
        if dry_run:
            return RepairRun(result, None, attempt)
        if before_apply is not None:
            before_apply(result)
        try:
            with transaction(engine) as session:
                ids = [i for i, _ in disruptions(session)]
                applied = apply_repair(session, actor, result, templates=templates,
                                       room_sites=room_sites, now=now,
                                       disruption_ids=[i for i in ids if i is not None])
            return RepairRun(result, applied, attempt)
        except SlotTaken:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")

"""Tiny hand-built networks: small enough to work out the best diary by hand."""

from __future__ import annotations

from datetime import date, time

import pytest

from domain.network import DemandArea, Network, OpeningHours, Room, Site, StaffGroup
from domain.session_templates import SessionTemplate
from domain.vocabulary import (
    Capability,
    ExamFamily,
    Modality,
    Priority,
    SessionPeriod,
    SiteKind,
    StaffRole,
)
from optimiser.problem import DemandRow, DiaryProblem

WEEK = date(2027, 3, 1)  # a Monday
DAYTIME = frozenset({SessionPeriod.MORNING, SessionPeriod.AFTERNOON})
ALL_PERIODS = DAYTIME | {SessionPeriod.EVENING}
WEEKDAYS_ONLY = (OpeningHours(time(8), time(17)), OpeningHours(None, None),
                 OpeningHours(None, None))
LONG_HOURS = (OpeningHours(time(8), time(21, 30)),) * 3


def site(site_id: str, lat: float, lon: float, hours=WEEKDAYS_ONLY) -> Site:
    weekday, saturday, sunday = hours
    return Site(site_id, site_id, "T1", SiteKind.ACUTE, "B1", lat, lon, weekday, saturday,
                sunday, True, True, "", "")


def room(room_id: str, site_id: str, modality: Modality = Modality.XR,
         capabilities: frozenset[Capability] = frozenset()) -> Room:
    return Room(room_id, site_id, room_id, modality, capabilities, 200)


def staff(group_id: str, site_id: str, role: StaffRole = StaffRole.RADIOGRAPHER,
          skills: tuple[str, ...] = ("XR",), headcount: int = 1, sessions: int = 10,
          evenings: bool = False, weekends: bool = False) -> StaffGroup:
    return StaffGroup(group_id, site_id, role, frozenset(skills), headcount, sessions, evenings,
                      weekends)


def area(area_id: str, lat: float, lon: float) -> DemandArea:
    return DemandArea(area_id, area_id, "ICS", lat, lon, 1.0, 5)


def network(sites, rooms, groups, areas) -> Network:
    return Network((), (), tuple(sites), tuple(rooms), tuple(groups), tuple(areas))


XR_GENERAL = SessionTemplate(
    "XR_GEN", "General plain film", Modality.XR, ((ExamFamily.XR_PLAIN, 24),), 10, frozenset(),
    StaffRole.RADIOGRAPHER, 1, False, 0, ALL_PERIODS)
XR_FLUORO = SessionTemplate(
    "XR_FLUORO", "Fluoroscopy", Modality.XR, ((ExamFamily.XR_FLUORO, 6),), 40,
    frozenset({Capability.FLUOROSCOPY}), StaffRole.RADIOGRAPHER, 1, True, 1, DAYTIME)
CT_PLAIN = SessionTemplate(
    "CT_PLAIN", "CT", Modality.CT, ((ExamFamily.CT_PLAIN, 16),), 15, frozenset(),
    StaffRole.RADIOGRAPHER, 2, False, 0, ALL_PERIODS)

US_PAED = SessionTemplate(
    "US_PAED", "Paediatric ultrasound", Modality.US, ((ExamFamily.US_PAEDIATRIC, 10),), 20,
    frozenset({Capability.PAEDIATRIC}), StaffRole.SONOGRAPHER, 1, True, 3, DAYTIME)


def demand(family: ExamFamily, area_id: str, count: float,
           priority: Priority = Priority.ROUTINE) -> DemandRow:
    return DemandRow(family, area_id, priority, count)


def problem(net: Network, rows, templates=(XR_GENERAL,), **options) -> DiaryProblem:
    return DiaryProblem(net, {t.template_id: t for t in templates}, WEEK, tuple(rows), **options)


def paediatric_week() -> DiaryProblem:
    """Three paediatric rooms and one radiologist session a week: only one session with all
    three rooms running serves the 30 children."""
    net = network([site("S1", 52.0, -2.0)],
                  [room(f"S1-US{i}", "S1", Modality.US, frozenset({Capability.PAEDIATRIC}))
                   for i in (1, 2, 3)],
                  [staff("SON", "S1", StaffRole.SONOGRAPHER, ("US", "PAEDIATRIC"), 3, 30),
                   staff("RAD", "S1", StaffRole.RADIOLOGIST, ("US", "PAEDIATRIC"), 1, 1)],
                  [area("A1", 52.009, -2.0)])
    return problem(net, [demand(ExamFamily.US_PAEDIATRIC, "A1", 30)], [US_PAED])


@pytest.fixture
def one_xr_room() -> Network:
    """One weekday-only site 1 km from its only area, one X-ray room, one radiographer."""
    return network([site("S1", 52.0, -2.0)], [room("S1-XR1", "S1")], [staff("G1", "S1")],
                   [area("A1", 52.009, -2.0)])

"""The smallest network that shows the database behaviours: one system, one trust, two sites,
three rooms, two staff groups, three demand areas; plus a handful of exams."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import Engine

from booking_api.core.db import transaction
from booking_api.network.services import mirror_reference_data
from booking_api.patients.models import Patient
from booking_api.slots.models import DiarySession, Slot
from domain.exams import ExamType, exam_catalogue
from domain.network import (
    DemandArea,
    IntegratedCareSystem,
    Network,
    OpeningHours,
    Room,
    Site,
    StaffGroup,
    Trust,
)
from domain.vocabulary import (
    Capability,
    Modality,
    SessionPeriod,
    SiteKind,
    StaffRole,
)
from tests.request_support import appointable_request

TINY_EXAMS = ("XCHES", "XKNEE")


def _site(site_id: str, kind: SiteKind, district: str) -> Site:
    day = OpeningHours(time(8, 0), time(20, 0))
    closed = OpeningHours(None, None)
    return Site(site_id=site_id, name=f"{site_id} hospital", trust_id="T1", kind=kind,
                postcode_district=district, lat=52.48, lon=-1.9, weekday=day, saturday=day,
                sunday=closed, step_free=True, hoist=kind is SiteKind.ACUTE,
                parking="Car park A", public_transport="Bus 1")


@pytest.fixture
def tiny_network() -> Network:
    return make_tiny_network()


def make_tiny_network() -> Network:
    """The network of `tiny_network`, for fixtures of a wider scope."""
    return Network(
        icss=(IntegratedCareSystem("ICS1", "Test system"),),
        trusts=(Trust("T1", "Test Hospitals NHS Trust", "ICS1"),),
        sites=(_site("S1", SiteKind.ACUTE, "B15"), _site("S2", SiteKind.CDC, "B23")),
        rooms=(
            Room("S1-XR1", "S1", "X-ray 1", Modality.XR, frozenset(), 200),
            Room("S1-CT1", "S1", "CT 1", Modality.CT,
                 frozenset({Capability.CARDIAC, Capability.CONTRAST_INJECTOR}), 220),
            Room("S2-XR1", "S2", "X-ray 1", Modality.XR, frozenset(), 180),
        ),
        staff_groups=(
            StaffGroup("S1-RAD", "S1", StaffRole.RADIOGRAPHER, frozenset({"XR", "CT"}), 6, 8,
                       True, False),
            StaffGroup("S2-RAD", "S2", StaffRole.RADIOGRAPHER, frozenset({"XR"}), 3, 8,
                       False, True),
        ),
        demand_areas=(
            DemandArea("B15", "Edgbaston", "ICS1", 52.46, -1.93, 1.0, 5),
            DemandArea("B23", "Erdington", "ICS1", 52.52, -1.83, 2.0, 2),
            DemandArea("B90", "Shirley", "ICS1", 52.40, -1.81, 0.5, 8),
        ),
    )


@pytest.fixture
def tiny_catalogue() -> dict[str, ExamType]:
    return make_tiny_catalogue()


def make_tiny_catalogue() -> dict[str, ExamType]:
    return {code: exam_catalogue()[code] for code in TINY_EXAMS}


@pytest.fixture
def one_slot(engine: Engine, tiny_network: Network,
             tiny_catalogue: dict[str, ExamType]) -> dict[str, int]:
    """A migrated database holding the tiny network, one patient with two appointable
    requests (vetted and placed by the rules), and one free X-ray slot; returns their ids."""
    with transaction(engine) as session:
        mirror_reference_data(session, tiny_network, tiny_catalogue)
        patient = Patient(given_name="Test", family_name="Patient",
                          date_of_birth=date(1960, 5, 17), postcode_district="B15",
                          area_id="B15")
        session.add(patient)
        session.flush()
        requests = [
            appointable_request(session, patient.id, "XCHES",
                                received_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC),
                                booking_reference=reference, today=date(2026, 12, 1))
            for reference in ("JK3D-PNJE-NC", "7R4D-5NMN-U2")
        ]
        diary_session = DiarySession(room_id="S1-XR1", session_date=date(2026, 12, 7),
                                     period=SessionPeriod.MORNING, template_id="XR_GENERAL")
        session.add(diary_session)
        session.flush()
        slot = Slot(session_id=diary_session.id, room_id="S1-XR1", site_id="S1",
                    start_at=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
                    end_at=datetime(2026, 12, 7, 9, 10, tzinfo=UTC),
                    modality=Modality.XR, families="XR_PLAIN")
        session.add(slot)
        session.flush()
        return {"patient": patient.id, "request_a": requests[0].id,
                "request_b": requests[1].id, "slot": slot.id}

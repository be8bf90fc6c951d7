"""Inputs narrowed to a trust or a modality (the dashboard's filters): requests and what
follows them kept or left out together, links to rows left out blanked, bad trust refused."""

from __future__ import annotations

import pandas as pd
import pytest

from reporting.errors import ReportInputError
from reporting.inputs import check_inputs
from reporting.subset import inputs_for
from tests.reporting.world import World


def _two_trusts() -> tuple[World, dict[str, int]]:
    world = World()
    mri = world.request("MKNEE", "2025-03-03 09:00", trust="T1")
    ultrasound = world.request("UABDO", "2025-03-04 09:00", trust="T2")
    elsewhere = world.session("R-US", "2025-03-10 08:00")
    away = world.appointment(mri, "R-US", "2025-03-10 09:00", 30, "attended",
                             booked="2025-03-05 09:00", session=elsewhere)
    home = world.appointment(ultrasound, "R-US", "2025-03-10 10:00", 20, "attended",
                             booked="2025-03-05 10:00", session=elsewhere)
    return world, {"mri": mri, "ultrasound": ultrasound, "away": away, "home": home}


def test_a_trust_keeps_its_requests_with_their_events_and_appointments() -> None:
    world, ids = _two_trusts()
    narrowed = inputs_for(world.inputs(), trust_id="T1")
    assert list(narrowed.requests.request_id) == [ids["mri"]]
    assert set(narrowed.request_events.request_id) == {ids["mri"]}
    assert list(narrowed.appointments.appointment_id) == [ids["away"]]


def test_an_appointment_in_another_trusts_session_keeps_no_session() -> None:
    world, _ = _two_trusts()
    narrowed = inputs_for(world.inputs(), trust_id="T1")
    assert narrowed.sessions.empty
    assert pd.isna(narrowed.appointments.session_id.iloc[0])
    check_inputs(narrowed)


def test_a_modality_keeps_the_requests_for_its_exams_and_its_rooms_sessions() -> None:
    world, ids = _two_trusts()
    narrowed = inputs_for(world.inputs(), modality="US")
    assert list(narrowed.requests.request_id) == [ids["ultrasound"]]
    assert list(narrowed.sessions.room_id) == ["R-US"]
    check_inputs(narrowed)


def test_an_unknown_trust_is_refused_naming_the_column() -> None:
    world, _ = _two_trusts()
    with pytest.raises(ReportInputError, match="trust_id"):
        inputs_for(world.inputs(), trust_id="T9")

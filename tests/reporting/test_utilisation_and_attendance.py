"""Utilisation, DNA and cancellation rates, rebooking and backfill, against hand-computed
figures on one diary session and a handful of appointments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reporting.attendance import attendance
from reporting.london import Month
from reporting.record import prepare
from reporting.utilisation import modality_utilisation, room_utilisation, session_utilisation
from tests.reporting.world import World, utc

MARCH = Month.parse("2025-03")
WINDOW = (MARCH.start_ns, MARCH.end_ns)


def _morning() -> tuple[World, dict[str, int]]:
    """One 240-minute MRI session on 10 March: attended 20 min, DNA 30, booked (no outcome yet)
    30, a patient cancellation of 30 (rebooked to the 20th), a hospital cancellation of 40
    made 3 days ahead; plus 15 minutes on the 20th outside any session."""
    w = World()
    session = w.session("R-MR", "2025-03-10 08:00")
    ids, requests = {}, {}
    for name, start, minutes, state, extra in [
        ("attended", "2025-03-10 08:00", 20, "attended", {}),
        ("dna", "2025-03-10 08:30", 30, "dna", {}),
        ("booked", "2025-03-10 09:00", 30, "booked", {}),
        ("patient", "2025-03-10 09:30", 30, "cancelled",
         {"cancelled": "2025-03-09 12:00", "cancelled_by": "patient"}),
        ("hospital", "2025-03-10 10:00", 40, "cancelled",
         {"cancelled": "2025-03-07 09:00", "cancelled_by": "hospital"}),
    ]:
        request = requests[name] = w.request("MKNEE", "2025-03-01 09:00")
        ids[name] = w.appointment(request, "R-MR", start, minutes, state,
                                  booked="2025-03-02 09:00", session=session, **extra)
    ids["rebooking"] = w.appointment(requests["patient"], "R-MR", "2025-03-20 10:00", 15,
                                     "attended", booked="2025-03-09 12:00",
                                     replaces=ids["patient"])
    return w, ids


def test_session_booked_share_counts_booked_attended_and_dna_minutes_only() -> None:
    world, _ = _morning()
    row = session_utilisation(prepare(world.inputs()), WINDOW).iloc[0]
    assert (row.session_minutes, row.booked_minutes, row.attended_minutes) == (240, 80, 20)
    assert row.booked_share == pytest.approx(80 / 240)
    assert row.attended_share == pytest.approx(20 / 80)


def test_room_figures_add_sessions_and_show_unsessioned_minutes() -> None:
    world, _ = _morning()
    row = room_utilisation(prepare(world.inputs()), WINDOW).iloc[0]
    assert (row.room, row.sessions, row.booked_minutes, row.unsessioned_minutes) == (
        "R-MR", 1, 80, 15)


def test_modality_figures_group_sessions_by_trust() -> None:
    world, _ = _morning()
    table = modality_utilisation(session_utilisation(prepare(world.inputs()), WINDOW))
    row = table[(table.by == "trust") & (table.group == "T1")].iloc[0]
    assert (row.modality, row.booked_share) == ("MR", pytest.approx(1 / 3))


def _network(world: World) -> pd.Series:
    table = attendance(prepare(world.inputs()), WINDOW)
    return table[table.by == "network"].iloc[0]


def test_dna_rate_is_dnas_over_attended_and_dnas() -> None:
    world, _ = _morning()
    row = _network(world)
    assert (row.attended, row.dna, row.not_recorded) == (2, 1, 1)
    assert row.dna_rate == pytest.approx(1 / 3)


def test_cancellation_rates_split_patient_and_hospital() -> None:
    world, _ = _morning()
    row = _network(world)
    assert (row.appointments, row.cancelled) == (6, 2)
    assert row.cancellation_rate == pytest.approx(2 / 6)
    assert (row.patient_cancellation_rate, row.hospital_cancellation_rate) == (
        pytest.approx(1 / 6), pytest.approx(1 / 6))


def test_rebooked_share_counts_cancelled_or_missed_appointments_that_were_replaced() -> None:
    world, _ = _morning()
    row = _network(world)
    assert row.rebooked == 1
    assert row.rebooked_share == pytest.approx(1 / 3)  # one of two cancellations and a DNA


def test_backfill_fill_rate_is_blank_until_backfill_exists() -> None:
    world, _ = _morning()
    row = _network(world)
    assert row.freed_48h == 1  # only the hospital cancellation was 48 h or more ahead
    assert np.isnan(row.backfill_fill_rate)


def test_backfill_fill_rate_counts_freed_slots_the_backfill_filled() -> None:
    world, ids = _morning()
    world.backfill = [{"appointment_id": ids["hospital"], "first_offer_at": utc("2025-03-07 09:01"),
                       "filled_by_appointment_id": ids["rebooking"]}]
    row = _network(world)
    assert (row.freed_48h, row.backfilled, row.backfill_fill_rate) == (1, 1, 1.0)

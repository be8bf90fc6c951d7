"""Bad input frames are refused before any figure is computed, with an error naming the frame,
the column and the row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import pytest

from reporting.errors import ReportInputError
from reporting.inputs import ReportInputs, check_inputs
from reporting.record import prepare
from tests.reporting.world import World


def _inputs() -> ReportInputs:
    w = World()
    request = w.request("MKNEE", "2025-03-03 09:00", states=[("2025-03-04 09:00", "appointed")])
    session = w.session("R-MR", "2025-03-10 08:00")
    w.appointment(request, "R-MR", "2025-03-10 09:00", 30, "booked", booked="2025-03-04 09:00",
                  session=session)
    w.appointment(request, "R-MR", "2025-03-11 09:00", 30, "cancelled",
                  booked="2025-03-04 09:00", cancelled="2025-03-05 09:00",
                  cancelled_by="patient")
    return w.inputs()


def _change(frame: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> ReportInputs:
    inputs = _inputs()
    return replace(inputs, **{frame: edit(getattr(inputs, frame).copy())})


def _set(column: str, value: object, row: int = 0) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame
    return edit


def _naive(column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].dt.tz_localize(None)
        return frame
    return edit


BAD_INPUTS = [
    ("requests", lambda f: f.drop(columns=["priority"]), "priority", "missing column"),
    ("requests", _set("priority", "soon"), "priority", "'soon' is not one of"),
    ("requests", _set("received_at", pd.NaT), "received_at", "is blank but required"),
    ("requests", _set("trust_id", "T9"), "trust_id", "'T9' is not a trust_id of trusts"),
    ("requests", _set("exam_code", "XFOO"), "exam_code", "'XFOO' is not a code of exams"),
    ("request_events", _naive("at"), "at", "expected UTC instant (timezone-aware)"),
    ("request_events", _set("to_state", "lost"), "to_state", "'lost' is not one of"),
    ("request_events", _set("request_id", 99), "request_id", "'99' is not a request_id"),
    ("patients", _set("sex", "X"), "sex", "'X' is not one of F, M, U"),
    ("appointments", _set("appointment_id", 2), "appointment_id", "'2' appears twice"),
    ("appointments", _set("room_id", "R-PET"), "room_id", "'R-PET' is not a room_id of rooms"),
    ("appointments", _set("state", "lost"), "state", "'lost' is not one of"),
    ("appointments", lambda f: f.assign(end_at=f.start_at), "end_at", "is not after start_at"),
    ("appointments", _set("cancelled_at", pd.NaT, row=1), "cancelled_at",
     "is blank but the appointment is cancelled"),
    ("appointments", _set("cancelled_by", "patient", row=0), "cancelled_by",
     "is given but the appointment is not cancelled"),
    ("appointments", _set("session_id", 7), "session_id", "'7' is not a session_id"),
    ("sessions", _set("minutes", -5), "minutes", "is negative"),
    ("sessions", lambda f: f.assign(minutes=f.minutes.astype(float)), "minutes",
     "expected integer"),
    ("rooms", _set("modality", "PET"), "modality", "'PET' is not one of"),
]


@pytest.mark.parametrize(("frame", "edit", "column", "problem"), BAD_INPUTS,
                         ids=[f"{frame}.{column}:{problem}" for frame, _, column, problem
                              in BAD_INPUTS])
def test_bad_input_is_refused_naming_frame_and_column(frame: str, edit, column: str,
                                                      problem: str) -> None:
    with pytest.raises(ReportInputError) as raised:
        prepare(_change(frame, edit))
    assert (raised.value.frame, raised.value.column) == (frame, column)
    assert problem in str(raised.value)
    assert str(raised.value).startswith(frame)


def test_a_missing_frame_is_named() -> None:
    with pytest.raises(ReportInputError, match=r"^sessions: frame is missing"):
        check_inputs(replace(_inputs(), sessions=None))


def test_the_error_names_the_row() -> None:
    with pytest.raises(ReportInputError, match="appointments, row 1, column 'room_id'"):
        prepare(_change("appointments", _set("room_id", "R-PET", row=1)))


def test_a_forecast_week_must_start_on_a_monday() -> None:
    forecast = pd.DataFrame({"week_start": pd.to_datetime(["2025-04-08"]),
                             "exam_family": ["MR_MSK"], "area_id": ["A1"], "expected": [1.0]})
    with pytest.raises(ReportInputError, match="forecast, row 0, column 'week_start': is not a "
                                               "Monday"):
        check_inputs(replace(_inputs(), forecast=forecast))


def test_good_inputs_pass_unchanged() -> None:
    inputs = _inputs()
    before = inputs.appointments.copy()
    prepare(inputs)
    pd.testing.assert_frame_equal(inputs.appointments, before)

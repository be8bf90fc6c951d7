"""Figures for managers and the national returns (DM01, DID), computed from plain frames: the
request event log, requests, appointments and diary sessions (docs/reports.md). A pure library
over pandas and numpy that imports `domain` only: the booking service adapts its tables to the
input frames, the CLI reads a history folder (`from_history`), the console and the what-if
engine call the same functions.

    record = prepare(inputs)              # check the frames once, build aligned arrays
    month_figures(record, Month.parse("2025-03"))
    dm01_return(record, month); did_return(record, month)
"""

from reporting.did import DidReturn, did_return
from reporting.dm01 import Dm01Return, dm01_return
from reporting.errors import ReportingError, ReportInputError, ReportPeriodError, ReturnLayoutError
from reporting.figures import MonthFigures, month_figures, write_figures
from reporting.inputs import ReportInputs, check_inputs
from reporting.london import Month
from reporting.record import Record, prepare

__all__ = [
    "DidReturn",
    "Dm01Return",
    "Month",
    "MonthFigures",
    "Record",
    "ReportInputError",
    "ReportInputs",
    "ReportPeriodError",
    "ReportingError",
    "ReturnLayoutError",
    "check_inputs",
    "did_return",
    "dm01_return",
    "month_figures",
    "prepare",
    "write_figures",
]

"""The input frames of the reporting engine (docs/reports.md describes every column) and the
checks they pass before any figure is computed: column presence, type, codes, nulls, unique
ids and links between frames. A bad frame raises ReportInputError naming frame, column and row
(0-based position); nothing is computed from it.

Ids of requests, patients, appointments and sessions are integers (the service's primary keys;
the history adapter numbers its rows). Instants are timezone-aware UTC; dates are plain days.
Code columns may be text or pandas categoricals: categoricals check much faster at scale."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum

import numpy as np
import pandas as pd

from domain.history import Sex
from domain.lifecycle import AppointmentState, RequestState
from domain.vocabulary import ExamFamily, Modality, Priority
from reporting.errors import ReportInputError


class Kind(StrEnum):
    ID = "integer id"
    KEY = "text key"
    TEXT = "text"
    CODE = "code"
    INSTANT = "UTC instant"
    DATE = "date"
    INTEGER = "integer"
    NUMBER = "number"


class CancelledBy(StrEnum):
    PATIENT = "patient"
    HOSPITAL = "hospital"


SOURCE_SETTINGS = ("01", "02", "03", "04", "05", "06", "07")
"""PATIENT SOURCE SETTING TYPE (DIAGNOSTIC IMAGING): 01 admitted inpatient, 02 admitted day
case, 03 outpatient, 04 GP direct access, 05 accident and emergency, 06 other health care
provider, 07 other."""


@dataclass(frozen=True)
class InputColumn:
    name: str
    kind: Kind
    meaning: str
    codes: tuple[str, ...] = ()
    nullable: bool = False
    unique: bool = False
    references: tuple[str, str] | None = None


def _codes(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def _col(name: str, kind: Kind, meaning: str, **options: object) -> InputColumn:
    return InputColumn(name, kind, meaning, **options)  # type: ignore[arg-type]


SCHEMA: Mapping[str, tuple[InputColumn, ...]] = {
    "requests": (
        _col("request_id", Kind.ID, "request", unique=True),
        _col("patient_id", Kind.ID, "patient", references=("patients", "patient_id")),
        _col("exam_code", Kind.KEY, "exam", references=("exams", "code")),
        _col("priority", Kind.CODE, "clinical priority", codes=_codes(Priority)),
        _col("trust_id", Kind.KEY, "trust responsible for the request",
             references=("trusts", "trust_id")),
        _col("area_id", Kind.KEY, "patient's home area", references=("areas", "area_id")),
        _col("received_at", Kind.INSTANT, "request received: the waiting-time clock starts"),
        _col("requested_on", Kind.DATE, "day the referrer made the request", nullable=True),
        _col("source_setting", Kind.CODE, "patient source setting (DID)",
             codes=SOURCE_SETTINGS, nullable=True),
        _col("referrer_code", Kind.TEXT, "referrer's national code", nullable=True),
        _col("referring_org_code", Kind.TEXT, "referring organisation's ODS code",
             nullable=True),
    ),
    "patients": (
        _col("patient_id", Kind.ID, "patient", unique=True),
        _col("nhs_number", Kind.TEXT, "NHS number, 10 digits", nullable=True),
        _col("nhs_number_status", Kind.TEXT, "NHS number status indicator code",
             nullable=True),
        _col("birth_date", Kind.DATE, "date of birth", nullable=True),
        _col("sex", Kind.CODE, "recorded sex", codes=_codes(Sex)),
        _col("ethnic_category", Kind.TEXT, "ethnic category code", nullable=True),
        _col("postcode", Kind.TEXT, "postcode of usual address", nullable=True),
        _col("gp_practice_code", Kind.TEXT, "registered GP practice code", nullable=True),
    ),
    "request_events": (
        _col("request_id", Kind.ID, "request", references=("requests", "request_id")),
        _col("at", Kind.INSTANT, "when the state changed"),
        _col("from_state", Kind.CODE, "state before", codes=_codes(RequestState),
             nullable=True),
        _col("to_state", Kind.CODE, "state after", codes=_codes(RequestState)),
    ),
    "appointments": (
        _col("appointment_id", Kind.ID, "appointment", unique=True),
        _col("request_id", Kind.ID, "request", references=("requests", "request_id")),
        _col("state", Kind.CODE, "appointment state", codes=_codes(AppointmentState)),
        _col("room_id", Kind.KEY, "room", references=("rooms", "room_id")),
        _col("session_id", Kind.ID, "diary session the slot belongs to", nullable=True,
             references=("sessions", "session_id")),
        _col("start_at", Kind.INSTANT, "start"),
        _col("end_at", Kind.INSTANT, "end of the last slot it occupies"),
        _col("booked_at", Kind.INSTANT, "when it was booked"),
        _col("cancelled_at", Kind.INSTANT, "when it was cancelled", nullable=True),
        _col("cancelled_by", Kind.CODE, "who cancelled", codes=_codes(CancelledBy),
             nullable=True),
        _col("replaces_appointment_id", Kind.ID, "the cancelled or missed appointment this "
             "one rebooks", nullable=True, references=("appointments", "appointment_id")),
        _col("accession_number", Kind.TEXT, "radiology accession number", nullable=True),
    ),
    "sessions": (
        _col("session_id", Kind.ID, "diary session", unique=True),
        _col("room_id", Kind.KEY, "room", references=("rooms", "room_id")),
        _col("start_at", Kind.INSTANT, "session start"),
        _col("end_at", Kind.INSTANT, "session end"),
        _col("minutes", Kind.INTEGER, "bookable minutes in the session"),
    ),
    "rooms": (
        _col("room_id", Kind.KEY, "room", unique=True),
        _col("site_id", Kind.KEY, "site", references=("sites", "site_id")),
        _col("modality", Kind.CODE, "modality", codes=_codes(Modality)),
    ),
    "sites": (
        _col("site_id", Kind.KEY, "site", unique=True),
        _col("name", Kind.TEXT, "site name"),
        _col("trust_id", Kind.KEY, "trust", references=("trusts", "trust_id")),
        _col("site_code", Kind.TEXT, "ODS site code", nullable=True),
    ),
    "trusts": (
        _col("trust_id", Kind.KEY, "trust", unique=True),
        _col("name", Kind.TEXT, "trust name"),
        _col("ics_id", Kind.KEY, "integrated care system"),
        _col("org_code", Kind.TEXT, "ODS organisation code", nullable=True),
    ),
    "areas": (
        _col("area_id", Kind.KEY, "demand area", unique=True),
        _col("ics_id", Kind.KEY, "integrated care system"),
    ),
    "exams": (
        _col("code", Kind.KEY, "exam code", unique=True),
        _col("modality", Kind.CODE, "modality", codes=_codes(Modality)),
        _col("family", Kind.CODE, "exam family", codes=_codes(ExamFamily)),
        _col("duration_min", Kind.INTEGER, "room minutes"),
        _col("relative_frequency", Kind.NUMBER, "weight within the family"),
        _col("snomed_ct_code", Kind.TEXT, "SNOMED CT concept", nullable=True),
        _col("nicip_code", Kind.TEXT, "NICIP code", nullable=True),
    ),
    "backfill": (
        _col("appointment_id", Kind.ID, "the cancelled appointment whose slot was offered",
             unique=True, references=("appointments", "appointment_id")),
        _col("first_offer_at", Kind.INSTANT, "first offer sent", nullable=True),
        _col("filled_by_appointment_id", Kind.ID, "the appointment that took the slot",
             nullable=True, references=("appointments", "appointment_id")),
    ),
    "forecast": (
        _col("week_start", Kind.DATE, "Monday of the week"),
        _col("exam_family", Kind.CODE, "exam family", codes=_codes(ExamFamily)),
        _col("area_id", Kind.KEY, "demand area", references=("areas", "area_id")),
        _col("expected", Kind.NUMBER, "expected requests received that week"),
    ),
}
OPTIONAL_FRAMES = frozenset({"backfill", "forecast"})


@dataclass(frozen=True)
class ReportInputs:
    """Everything the figures and returns are computed from. `backfill` is absent until the
    backfill engine exists; `forecast` is absent when no demand forecast is at hand."""

    requests: pd.DataFrame
    patients: pd.DataFrame
    request_events: pd.DataFrame
    appointments: pd.DataFrame
    sessions: pd.DataFrame
    rooms: pd.DataFrame
    sites: pd.DataFrame
    trusts: pd.DataFrame
    areas: pd.DataFrame
    exams: pd.DataFrame
    backfill: pd.DataFrame | None = None
    forecast: pd.DataFrame | None = None

    def frames(self) -> dict[str, pd.DataFrame]:
        """The frames that are present, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}


def check_inputs(inputs: ReportInputs) -> None:
    """Raise ReportInputError on the first problem; frames are checked in schema order."""
    frames = inputs.frames()
    for name, columns in SCHEMA.items():
        if name not in frames:
            if name in OPTIONAL_FRAMES:
                continue
            raise ReportInputError(name, "frame is missing")
        frame = frames[name]
        if not isinstance(frame, pd.DataFrame):
            raise ReportInputError(name, f"expected a pandas DataFrame, got "
                                         f"{type(frame).__name__}")
        for column in columns:
            _check_column(name, frame, column)
    for name, columns in SCHEMA.items():
        for column in columns:
            if column.references is not None and name in frames:
                _check_reference(name, frames, column)
    _check_rules(inputs)


def instants(series: pd.Series) -> np.ndarray:
    """UTC instants as int64 nanoseconds; NaT becomes the smallest int64."""
    return series.dt.tz_convert("UTC").dt.as_unit("ns").array.asi8


def _check_column(frame_name: str, frame: pd.DataFrame, column: InputColumn) -> None:
    if column.name not in frame.columns:
        raise ReportInputError(frame_name, "missing column", column.name)
    values = frame[column.name]
    _check_kind(frame_name, values, column)
    missing = values.isna().to_numpy()
    if not column.nullable and missing.any():
        raise ReportInputError(frame_name, "is blank but required", column.name,
                               int(np.argmax(missing)))
    if column.codes:
        _check_codes(frame_name, values, column)
    if column.unique and not _strictly_increasing(values):
        repeated = values.duplicated().to_numpy()
        if repeated.any():
            row = int(np.argmax(repeated))
            raise ReportInputError(frame_name, f"'{values.iloc[row]}' appears twice",
                                   column.name, row)


def _strictly_increasing(values: pd.Series) -> bool:
    """Fast path for unique ids: integers written in increasing order cannot repeat."""
    if not pd.api.types.is_integer_dtype(values.dtype) or values.isna().any():
        return False
    numbers = values.to_numpy()
    return bool(np.all(numbers[1:] > numbers[:-1]))


def _check_kind(frame_name: str, values: pd.Series, column: InputColumn) -> None:
    dtype = values.dtype
    ok = {
        Kind.ID: pd.api.types.is_integer_dtype(dtype),
        Kind.INTEGER: pd.api.types.is_integer_dtype(dtype),
        Kind.NUMBER: pd.api.types.is_numeric_dtype(dtype) and not
        pd.api.types.is_bool_dtype(dtype),
        Kind.INSTANT: isinstance(dtype, pd.DatetimeTZDtype),
        Kind.DATE: pd.api.types.is_datetime64_dtype(dtype),
    }.get(column.kind, _is_text(values))
    if not ok and column.kind in (Kind.ID, Kind.INTEGER) and values.isna().all():
        ok = True  # an all-blank optional id column may come as floats or objects
    if not ok and column.kind is Kind.INSTANT and values.isna().all():
        ok = True
    if not ok:
        raise ReportInputError(frame_name, f"has type {dtype}; expected {column.kind.value}"
                               + (" (timezone-aware)" if column.kind is Kind.INSTANT else ""),
                               column.name)


def _is_text(values: pd.Series) -> bool:
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.api.types.is_string_dtype(dtype.categories.dtype) or len(dtype.categories) == 0
    if pd.api.types.is_string_dtype(dtype):
        return True
    return dtype == np.dtype(object) and bool(values.dropna().map(type).eq(str).all())


def _check_codes(frame_name: str, values: pd.Series, column: InputColumn) -> None:
    if isinstance(values.dtype, pd.CategoricalDtype):
        unknown = set(values.cat.categories) - set(column.codes)
        if not unknown:
            return
        bad = values.isin(list(unknown)).to_numpy()
    else:
        bad = (~values.isin(column.codes) & values.notna()).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise ReportInputError(frame_name, f"'{values.iloc[row]}' is not one of "
                                           f"{', '.join(column.codes)}", column.name, row)


def _check_reference(frame_name: str, frames: dict[str, pd.DataFrame],
                     column: InputColumn) -> None:
    target_name, target_column = column.references  # type: ignore[misc]
    if target_name not in frames:
        raise ReportInputError(target_name, f"frame is missing (referred to by "
                                            f"{frame_name}.{column.name})")
    values = frames[frame_name][column.name]
    target = frames[target_name][target_column]
    unknown = ~_contained(values, target) & values.notna().to_numpy()
    if unknown.any():
        row = int(np.argmax(unknown))
        raise ReportInputError(frame_name, f"'{values.iloc[row]}' is not a "
                               f"{target_column} of {target_name}", column.name, row)


def _contained(values: pd.Series, target: pd.Series) -> np.ndarray:
    """Membership, with a fast path for integer ids that form one unbroken range."""
    if pd.api.types.is_integer_dtype(values.dtype) and pd.api.types.is_integer_dtype(
            target.dtype) and len(target):
        numbers = target.to_numpy()
        low, high = int(numbers.min()), int(numbers.max())
        if high - low + 1 == len(numbers):
            checked = values.to_numpy(dtype=np.int64, na_value=low)
            return (checked >= low) & (checked <= high)
    return values.isin(target).to_numpy()


def _check_rules(inputs: ReportInputs) -> None:
    """Rules between columns of a frame."""
    a = inputs.appointments
    ends_first = (instants(a.end_at) <= instants(a.start_at))
    _fail_where("appointments", ends_first, "end_at", "is not after start_at")
    cancelled = (a.state == AppointmentState.CANCELLED.value).to_numpy()
    _fail_where("appointments", cancelled & a.cancelled_at.isna().to_numpy(), "cancelled_at",
                "is blank but the appointment is cancelled")
    _fail_where("appointments", ~cancelled & a.cancelled_at.notna().to_numpy(), "cancelled_at",
                "is given but the appointment is not cancelled")
    _fail_where("appointments", ~cancelled & a.cancelled_by.notna().to_numpy(), "cancelled_by",
                "is given but the appointment is not cancelled")
    s = inputs.sessions
    _fail_where("sessions", (instants(s.end_at) <= instants(s.start_at)), "end_at",
                "is not after start_at")
    _fail_where("sessions", (s.minutes.to_numpy() < 0), "minutes", "is negative")
    if inputs.forecast is not None:
        monday = inputs.forecast.week_start.dt.day_of_week.to_numpy() != 0
        _fail_where("forecast", monday, "week_start", "is not a Monday")


def _fail_where(frame: str, mask: np.ndarray, column: str, problem: str) -> None:
    if mask.any():
        raise ReportInputError(frame, problem, column, int(np.argmax(mask)))

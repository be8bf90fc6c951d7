"""The history folder (patients, requests, appointments, and optionally the generator's truth)
as column definitions, and `read_history`, which validates every cell and every link between
files before a forecasting or DNA model may use it. docs/history-schema.md explains each field.

A bad file raises HistoryError naming the file, the column and the row as the file shows it
(the header is row 1). Checks are vectorised so millions of rows read in seconds."""

from __future__ import annotations

import csv
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from domain.data_files import DataFileError
from domain.history_columns import (
    HistoryColumn,
    Kind,
    check_column,
    first_duplicate,
    first_not_in,
    first_true,
)
from domain.vocabulary import ExamFamily, Modality, Priority


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class BookingChannel(StrEnum):
    """How the appointment was made: chosen online, agreed with a clerk, or sent by letter."""

    PORTAL = "portal"
    CLERK = "clerk"
    LETTER = "letter"


class Outcome(StrEnum):
    ATTENDED = "attended"
    DNA = "dna"
    CANCELLED_PATIENT = "cancelled_patient"
    CANCELLED_HOSPITAL = "cancelled_hospital"


PATIENTS_FILE = "patients.csv"
REQUESTS_FILE = "requests.csv"
APPOINTMENTS_FILE = "appointments.csv"
TRUTH_DIR = "truth"
DNA_PROBABILITY_FILE = "dna_probability.csv"
EXPECTED_DEMAND_FILE = "expected_demand.csv"
META_FILE = "meta.json"


def _codes(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def _col(name: str, kind: Kind, meaning: str, **limits: Any) -> HistoryColumn:
    return HistoryColumn(name, kind, meaning, **limits)


PATIENT_COLUMNS = (
    _col("patient_id", Kind.TEXT, "pseudonymous id", unique=True),
    _col("birth_year", Kind.INTEGER, "year of birth", minimum=1880, maximum=2100),
    _col("sex", Kind.CODE, "F, M or U", codes=_codes(Sex)),
    _col("area_id", Kind.TEXT, "home demand area (postcode district)"),
    _col("imd_decile", Kind.INTEGER, "deprivation decile, 1 = most deprived",
         minimum=1, maximum=10),
)
REQUEST_COLUMNS = (
    _col("request_id", Kind.TEXT, "imaging request id", unique=True),
    _col("patient_id", Kind.TEXT, "patient (patients.csv)"),
    _col("received_date", Kind.DATE, "date the request was received"),
    _col("exam_code", Kind.TEXT, "exam catalogue code"),
    _col("exam_family", Kind.CODE, "exam family", codes=_codes(ExamFamily)),
    _col("modality", Kind.CODE, "modality", codes=_codes(Modality)),
    _col("priority", Kind.CODE, "clinical priority", codes=_codes(Priority)),
    _col("area_id", Kind.TEXT, "patient's demand area at referral"),
    _col("due_date", Kind.DATE, "due date of a planned request", required=False),
)
APPOINTMENT_COLUMNS = (
    _col("appointment_id", Kind.TEXT, "appointment id", unique=True),
    _col("request_id", Kind.TEXT, "request (requests.csv)"),
    _col("patient_id", Kind.TEXT, "patient (patients.csv)"),
    _col("site_id", Kind.TEXT, "network site"),
    _col("modality", Kind.CODE, "modality", codes=_codes(Modality)),
    _col("booked_date", Kind.DATE, "date the appointment was made"),
    _col("start", Kind.DATETIME, "local start, Europe/London"),
    _col("lead_time_days", Kind.INTEGER, "start date - booked date", minimum=0),
    _col("age_years", Kind.INTEGER, "age at the appointment", minimum=0, maximum=130),
    _col("distance_km", Kind.NUMBER, "home area centroid to site", minimum=0),
    _col("booking_channel", Kind.CODE, "how it was booked", codes=_codes(BookingChannel)),
    _col("sms_reminder", Kind.YES_NO, "SMS reminder planned at booking"),
    _col("outcome", Kind.CODE, "what happened", codes=_codes(Outcome)),
)
DNA_PROBABILITY_COLUMNS = (
    _col("appointment_id", Kind.TEXT, "appointment (appointments.csv)", unique=True),
    _col("p_dna", Kind.NUMBER, "true DNA probability", minimum=0, maximum=1),
)
EXPECTED_DEMAND_COLUMNS = (
    _col("week_start", Kind.DATE, "Monday of the week"),
    _col("exam_family", Kind.CODE, "exam family", codes=_codes(ExamFamily)),
    _col("area_id", Kind.TEXT, "demand area"),
    _col("expected", Kind.NUMBER, "true mean number of requests received", minimum=0),
)


class HistoryError(DataFileError):
    """A history file that cannot be used; the message names file, row and column."""


@dataclass(frozen=True)
class HistoryTruth:
    """What the generator knows and a model must never fit on."""

    dna_probability: pd.DataFrame
    expected_demand: pd.DataFrame
    meta: dict[str, Any]


@dataclass(frozen=True)
class History:
    patients: pd.DataFrame
    requests: pd.DataFrame
    appointments: pd.DataFrame
    truth: HistoryTruth | None


def read_history(directory: Path | str, exam_codes: Collection[str] | None = None,
                 site_ids: Collection[str] | None = None) -> History:
    """Read and validate a history folder; `truth/` is optional (a trust's export has none).
    Give `exam_codes` / `site_ids` to also check codes against a catalogue and a network."""
    directory = Path(directory)
    patients = read_history_file(directory / PATIENTS_FILE, PATIENT_COLUMNS)
    requests = read_history_file(directory / REQUESTS_FILE, REQUEST_COLUMNS)
    appointments = read_history_file(directory / APPOINTMENTS_FILE, APPOINTMENT_COLUMNS)
    _check_requests(directory / REQUESTS_FILE, requests, patients, exam_codes)
    _check_appointments(directory / APPOINTMENTS_FILE, appointments, requests, site_ids)
    truth = _read_truth(directory / TRUTH_DIR, appointments)
    return History(patients.to_pandas(), requests.to_pandas(), appointments.to_pandas(), truth)


def read_history_file(path: Path, columns: Sequence[HistoryColumn]) -> pa.Table:
    """One validated file as typed arrow columns in schema order."""
    header = _read_header(path, columns)
    raw = _read_text_cells(path, header)
    checked = {}
    for column in columns:
        result = check_column(column, raw.column(column.name).combine_chunks())
        if result.first_bad is not None:
            raise HistoryError(path, result.problem, result.first_bad + 2, column.name)
        if column.unique:
            duplicate = first_duplicate(result.values)
            if duplicate is not None:
                raise HistoryError(path, f"'{result.values[duplicate]}' appears twice",
                                   duplicate + 2, column.name)
        checked[column.name] = result.values
    return pa.table(checked)


def _read_header(path: Path, columns: Sequence[HistoryColumn]) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), None)
    except FileNotFoundError:
        raise HistoryError(path, "file not found") from None
    except UnicodeDecodeError as error:
        raise HistoryError(path, f"not UTF-8 text ({error.reason})", 1) from error
    if not header:
        raise HistoryError(path, "the file is empty; expected a header row")
    header = [name.strip() for name in header]
    for column in columns:
        if column.name not in header:
            raise HistoryError(path, "missing column", 1, column.name)
    known = {column.name for column in columns}
    for name in header:
        if name not in known:
            raise HistoryError(path, "unknown column", 1, name)
    if len(set(header)) != len(header):
        raise HistoryError(path, "a column name appears twice", 1)
    return header


def _read_text_cells(path: Path, header: list[str]) -> pa.Table:
    """Every cell as text, read by arrow's multi-threaded parser."""
    try:
        return pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(column_names=header, skip_rows=1,
                                          block_size=1 << 24),
            parse_options=pcsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as error:
        raise _locate_parse_error(path, len(header)) from error


def _locate_parse_error(path: Path, width: int) -> HistoryError:
    """The slow path, taken only for a broken file: find the row arrow could not parse."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if len(row) != width:
                    return HistoryError(path, f"has {len(row)} cells but the header has "
                                              f"{width}", number)
    except UnicodeDecodeError as error:
        return HistoryError(path, f"not UTF-8 text ({error.reason})")
    return HistoryError(path, "cannot be parsed as CSV")


def _fail(path: Path, row: int | None, column: str, problem: str) -> None:
    if row is not None:
        raise HistoryError(path, problem, row + 2, column)


def _numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False)


def _check_requests(path: Path, requests: pa.Table, patients: pa.Table,
                    exam_codes: Collection[str] | None) -> None:
    row = first_not_in(requests["patient_id"], patients["patient_id"])
    _fail(path, row, "patient_id", "no such patient in patients.csv")
    family_modality = pc.utf8_slice_codeunits(requests["exam_family"], 0, 2)
    row = first_true(_numpy(pc.not_equal(family_modality, requests["modality"])))
    _fail(path, row, "modality", "does not match the modality of the exam family")
    not_planned = pc.not_equal(requests["priority"], Priority.PLANNED.value)
    row = first_true(_numpy(pc.and_(not_planned, pc.is_valid(requests["due_date"]))))
    _fail(path, row, "due_date", "is given but the request is not planned")
    if exam_codes is not None:
        row = first_not_in(requests["exam_code"], pa.array(sorted(exam_codes), pa.string()))
        _fail(path, row, "exam_code", "is not in the exam catalogue")


def _check_appointments(path: Path, appointments: pa.Table, requests: pa.Table,
                        site_ids: Collection[str] | None) -> None:
    request_row = _numpy(pc.index_in(appointments["request_id"],
                                     value_set=requests["request_id"]))
    unknown = np.isnan(request_row) if request_row.dtype.kind == "f" else request_row < 0
    _fail(path, first_true(unknown), "request_id", "no such request in requests.csv")
    request_row = request_row.astype(np.int64)
    for column in ("patient_id", "modality"):
        differs = pc.not_equal(appointments[column], pc.take(requests[column], request_row))
        _fail(path, first_true(_numpy(differs)), column, "differs from the request's")
    booked = _numpy(appointments["booked_date"]).astype("datetime64[D]")
    received = _numpy(requests["received_date"]).astype("datetime64[D]")[request_row]
    _fail(path, first_true(booked < received), "booked_date",
          "is before the request was received")
    start_day = _numpy(appointments["start"]).astype("datetime64[D]")
    lead = (start_day - booked).astype(np.int64)
    _fail(path, first_true(lead != _numpy(appointments["lead_time_days"])), "lead_time_days",
          "is not the start date minus the booked date")
    if site_ids is not None:
        row = first_not_in(appointments["site_id"], pa.array(sorted(site_ids), pa.string()))
        _fail(path, row, "site_id", "is not a site of the network")


def _read_truth(folder: Path, appointments: pa.Table) -> HistoryTruth | None:
    if not folder.exists():
        return None
    dna_path = folder / DNA_PROBABILITY_FILE
    dna = read_history_file(dna_path, DNA_PROBABILITY_COLUMNS)
    if not _same_values(dna["appointment_id"], appointments["appointment_id"]):
        row = first_not_in(dna["appointment_id"], appointments["appointment_id"])
        _fail(dna_path, row, "appointment_id", "no such appointment in appointments.csv")
    if dna.num_rows != appointments.num_rows:
        missing = first_not_in(appointments["appointment_id"], dna["appointment_id"])
        raise HistoryError(dna_path, f"has no p_dna for appointments.csv row {missing + 2}",
                           field="appointment_id")
    demand_path = folder / EXPECTED_DEMAND_FILE
    demand = read_history_file(demand_path, EXPECTED_DEMAND_COLUMNS)
    weekday = _numpy(pc.day_of_week(demand["week_start"]))
    _fail(demand_path, first_true(weekday != 0), "week_start", "is not a Monday")
    return HistoryTruth(dna.to_pandas(), demand.to_pandas(), _read_meta(folder / META_FILE))


def _same_values(first: pa.ChunkedArray, second: pa.ChunkedArray) -> bool:
    """Fast path: the same ids in the same order (as the generator writes them)."""
    return len(first) == len(second) and bool(pc.all(pc.equal(first, second)).as_py())


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HistoryError(path, "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise HistoryError(path, f"not valid JSON ({error})") from error
    if not isinstance(meta, dict):
        raise HistoryError(path, "expected a JSON object")
    return meta

"""Typed reading of the CSV files the network is described in, with errors that name the
file, row and field. A file is read whole or not at all: the first bad cell raises."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import Any


class DataFileError(ValueError):
    """A data file that cannot be used, with the place of the first problem."""

    def __init__(self, file: str | Path, problem: str, row: int | None = None,
                 field: str | None = None) -> None:
        where = str(file)
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {problem}")
        self.file = str(file)
        self.row = row
        self.field = field
        self.problem = problem


Parser = Callable[[str], Any]


@dataclass(frozen=True)
class Column:
    """One expected column: its header, how to parse a cell, and whether it may be blank."""

    name: str
    parse: Parser
    required: bool = True


def read_table(path: Path, columns: Sequence[Column]) -> list[dict[str, Any]]:
    """Rows of a CSV file as dicts of parsed values; row numbers count the header as row 1."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # tolerate Excel's BOM
            reader = csv.DictReader(handle)
            _check_header(path, reader.fieldnames, columns)
            return [_parse_row(path, number, raw, columns)
                    for number, raw in enumerate(reader, start=2)]
    except FileNotFoundError:
        raise DataFileError(path, "file not found") from None
    except UnicodeDecodeError as error:
        raise DataFileError(path, f"not UTF-8 text ({error.reason})") from error


def text(value: str) -> str:
    return value


def integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a whole number") from None


def non_negative_integer(value: str) -> int:
    number = integer(value)
    if number < 0:
        raise ValueError(f"{number} is negative")
    return number


def number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a number") from None


def boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"yes", "true", "1", "y"}:
        return True
    if lowered in {"no", "false", "0", "n"}:
        return False
    raise ValueError(f"'{value}' is not yes/no")


def clock_time(value: str) -> time:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"'{value}' is not a time as HH:MM") from None


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a date as YYYY-MM-DD") from None


def one_of(enum: type[StrEnum]) -> Parser:
    """Parser for a single code of an enum."""
    def parse(value: str) -> StrEnum:
        try:
            return enum(value)
        except ValueError:
            codes = ", ".join(member.value for member in enum)
            raise ValueError(f"'{value}' is not one of {codes}") from None
    return parse


def list_of(parse: Parser, separator: str = ";") -> Parser:
    """Parser for a separated list of values (blank means an empty list)."""
    def parse_list(value: str) -> tuple:
        return tuple(parse(item.strip()) for item in value.split(separator) if item.strip())
    return parse_list


def _check_header(path: Path, header: Sequence[str] | None, columns: Sequence[Column]) -> None:
    if not header:
        raise DataFileError(path, "the file is empty; expected a header row")
    missing = [c.name for c in columns if c.name not in header]
    if missing:
        raise DataFileError(path, f"missing column(s): {', '.join(missing)}", row=1)
    known = {c.name for c in columns}
    unknown = [name for name in header if name not in known]
    if unknown:
        raise DataFileError(path, f"unknown column(s): {', '.join(unknown)}", row=1)


def _parse_row(path: Path, number: int, raw: dict[str | None, Any],
               columns: Sequence[Column]) -> dict[str, Any]:
    if None in raw:
        raise DataFileError(path, "more cells than columns in the header", row=number)
    parsed: dict[str, Any] = {}
    for column in columns:
        cell = (raw.get(column.name) or "").strip()
        if not cell:
            if column.required:
                raise DataFileError(path, "is blank but required", number, column.name)
            parsed[column.name] = None
            continue
        try:
            parsed[column.name] = column.parse(cell)
        except ValueError as error:
            raise DataFileError(path, str(error), number, column.name) from error
    return parsed

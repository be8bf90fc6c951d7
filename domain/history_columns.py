"""Column kinds of the history files and their vectorised checks: each turns a column of raw
text into typed values plus a mask of the cells that are not valid, so millions of rows are
validated without a Python loop. Knows nothing about which file holds which column."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_INTEGER_PATTERN = "^-?[0-9]{1,15}$"
_NUMBER_PATTERN = r"^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$"


class Kind(StrEnum):
    """How a cell is written in the file."""

    TEXT = "text"
    CODE = "code"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    YES_NO = "yes_no"


@dataclass(frozen=True)
class HistoryColumn:
    """One column of a history file: its header, kind and the limits a value must respect."""

    name: str
    kind: Kind
    meaning: str
    codes: tuple[str, ...] = ()
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    unique: bool = False


@dataclass(frozen=True)
class CheckedColumn:
    """Typed values of a column and the first invalid cell, if any (0-based data row)."""

    values: pa.Array
    first_bad: int | None
    problem: str = ""


def check_column(column: HistoryColumn, cells: pa.Array) -> CheckedColumn:
    """Parse a column of text; blank cells of an optional column become nulls. Cells are
    taken as written: a value padded with spaces is a different value (and fails any code,
    number or date check)."""
    blank = pc.equal(cells, "")
    any_blank = pc.any(blank).as_py()
    if column.required and any_blank:
        return CheckedColumn(cells, _first_true(blank), "is blank but required")
    values, bad, problem = _PARSERS[column.kind](column, cells)
    bad = pc.fill_null(bad, True)
    if any_blank:
        bad = pc.and_(bad, pc.invert(blank))
    first = _first_true(bad)
    if first is not None:
        return CheckedColumn(values, first, problem.format(value=cells[first].as_py()))
    if any_blank:
        values = pc.if_else(blank, pa.scalar(None, values.type), values)
    return _check_range(column, values)


def first_duplicate(values: pa.Array) -> int | None:
    """Row of the first value that repeats an earlier one."""
    if len(values) < 2 or pc.all(pc.less(values[:-1], values[1:])).as_py():
        return None  # fast path: ids written in increasing order cannot repeat
    encoded = pc.dictionary_encode(values)
    if len(encoded.dictionary) == len(values):
        return None
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(codes, kind="stable")
    repeats = order[1:][codes[order[1:]] == codes[order[:-1]]]
    return int(repeats.min())


def first_not_in(values: pa.Array, allowed: pa.Array) -> int | None:
    """Row of the first non-null value missing from `allowed`."""
    present = pc.is_in(values, value_set=allowed)
    return _first_true(pc.and_(pc.invert(present), pc.is_valid(values)))


def first_true(mask: np.ndarray) -> int | None:
    """Index of the first True in a boolean numpy array."""
    if not mask.any():
        return None
    return int(np.argmax(mask))


def _first_true(mask: pa.Array) -> int | None:
    return first_true(mask.to_numpy(zero_copy_only=False).astype(bool))


def _parse_code(column: HistoryColumn, cells: pa.Array) -> tuple[pa.Array, pa.Array, str]:
    known = pc.is_in(cells, value_set=pa.array(column.codes, pa.string()))
    return cells, pc.invert(known), "'{value}' is not one of " + ", ".join(column.codes)


def _parse_integer(column: HistoryColumn, cells: pa.Array) -> tuple[pa.Array, pa.Array, str]:
    problem = "'{value}' is not a whole number"
    try:  # fast path: every cell converts
        values = pc.cast(pc.if_else(pc.equal(cells, ""), "0", cells), pa.int64())
        return values, pc.not_equal(cells, cells), problem
    except pa.ArrowInvalid:
        ok = pc.match_substring_regex(cells, _INTEGER_PATTERN)
        return pc.cast(pc.if_else(ok, cells, "0"), pa.int64()), pc.invert(ok), problem


def _parse_number(column: HistoryColumn, cells: pa.Array) -> tuple[pa.Array, pa.Array, str]:
    problem = "'{value}' is not a number"
    try:  # fast path: every cell converts; arrow also accepts nan and inf, which we do not
        values = pc.cast(pc.if_else(pc.equal(cells, ""), "0", cells), pa.float64())
        return values, pc.invert(pc.is_finite(values)), problem
    except pa.ArrowInvalid:
        ok = pc.match_substring_regex(cells, _NUMBER_PATTERN)
        return pc.cast(pc.if_else(ok, cells, "0"), pa.float64()), pc.invert(ok), problem


def _parse_date(column: HistoryColumn, cells: pa.Array) -> tuple[pa.Array, pa.Array, str]:
    values, ok = _dates(cells)
    return values, pc.invert(ok), "'{value}' is not a date as YYYY-MM-DD"


def _parse_datetime(column: HistoryColumn, cells: pa.Array) -> tuple[pa.Array, pa.Array, str]:
    values = pc.strptime(cells, format="%Y-%m-%dT%H:%M", unit="s", error_is_null=True)
    # strptime rolls 30 February over into March and accepts unpadded fields: insist on the
    # exact width and on the date part reading back unchanged.
    day = pc.cast(pc.cast(values, pa.date32()), pa.string())
    ok = pc.and_(pc.equal(pc.utf8_length(cells), 16),
                 pc.equal(day, pc.utf8_slice_codeunits(cells, 0, 10)))
    return values, pc.invert(ok), "'{value}' is not a date and time as YYYY-MM-DDTHH:MM"


def _parse_yes_no(column: HistoryColumn, cells: pa.Array) -> tuple[pa.Array, pa.Array, str]:
    known = pc.is_in(cells, value_set=pa.array(["yes", "no"]))
    return pc.equal(cells, "yes"), pc.invert(known), "'{value}' is not yes or no"


def _dates(cells: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Timestamps at midnight, and whether each cell was a real calendar date written ISO-style
    (arrow alone would roll 2024-02-30 over into March)."""
    parsed = pc.strptime(cells, format="%Y-%m-%d", unit="s", error_is_null=True)
    round_trip = pc.cast(pc.cast(parsed, pa.date32()), pa.string())
    return parsed, pc.fill_null(pc.equal(round_trip, cells), False)


def _check_range(column: HistoryColumn, values: pa.Array) -> CheckedColumn:
    for limit, compare, word in ((column.minimum, pc.less, "below"),
                                 (column.maximum, pc.greater, "above")):
        if limit is None:
            continue
        first = _first_true(pc.fill_null(compare(values, limit), False))
        if first is not None:
            return CheckedColumn(values, first, f"{values[first].as_py()} is {word} {limit:g}")
    return CheckedColumn(values, None)


_PARSERS = {
    Kind.TEXT: lambda column, cells: (cells, pc.not_equal(cells, cells), ""),
    Kind.CODE: _parse_code,
    Kind.INTEGER: _parse_integer,
    Kind.NUMBER: _parse_number,
    Kind.DATE: _parse_date,
    Kind.DATETIME: _parse_datetime,
    Kind.YES_NO: _parse_yes_no,
}

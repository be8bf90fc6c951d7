"""What a value from outside must be before a service or the database sees it, in one place
for the JSON API (annotated types for bodies and parameters) and the pages' forms (the same
checks, called directly).

Why: PostgreSQL refuses NUL in text and a lone surrogate cannot be encoded at all, so either
reaching the database or an answer is a server error; `"7"` or `true` taken as an id hides a
caller's bug; a date near year 9999 overflows the first day added to it; NaN is no number.
Each check says what is wrong in words that go after the field's name."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

MAX_ID = 2**31 - 1
"""Ids are 32-bit integers in the database; a larger one is bad input, not a server error."""
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
"""Dates the service takes: every date of birth, diary day and search bound lies between,
and the calendar arithmetic done on them never leaves Python's range."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters other than tab, line feed and carriage return."""
_LINE_BREAK = re.compile(r"[\t\n\r]")


def text_problem(value: str, *, multiline: bool = True) -> str | None:
    """What makes `value` unfit to store or show (None when it is fine): a NUL, another
    control character (tab and line breaks only in `multiline` text), or an unpaired
    surrogate (UTF-16 debris no UTF-8 text can hold)."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not _encodable(value):
        return "must not contain unpaired surrogate characters"
    if _CONTROL.search(value) or (not multiline and _LINE_BREAK.search(value)):
        return "must not contain control characters" + ("" if multiline else
                                                         " or line breaks")
    return None


def date_problem(value: date) -> str | None:
    """Why `value` is outside the dates the service takes, or None."""
    if EARLIEST_DATE <= value <= LATEST_DATE:
        return None
    return f"must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"


def number_problem(value: float) -> str | None:
    """NaN and the infinities are not measurements."""
    return None if math.isfinite(value) else "must be a finite number"


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _checked(problem_of):
    def check(value):
        problem = problem_of(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    return check


SafeText = Annotated[str, AfterValidator(_checked(text_problem))]
"""Free text (reasons, notes): tabs and line breaks allowed, no other control character,
no NUL, no lone surrogate."""
PlainText = Annotated[str, AfterValidator(_checked(
    lambda value: text_problem(value, multiline=False)))]
"""One line of text (names, codes, references, search filters)."""
StrictId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
"""A row id in a JSON body: a whole number, never a string or a boolean."""
SafeDate = Annotated[date, AfterValidator(_checked(date_problem))]
"""A calendar date between EARLIEST_DATE and LATEST_DATE."""
FiniteFloat = Annotated[float, AfterValidator(_checked(number_problem))]
"""A number that is not NaN or infinite."""


def _scalar_problem(value: bool | int | float | str | None) -> str | None:
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, float):
        return number_problem(value)
    return None


ScalarValue = Annotated[bool | int | float | str | None, AfterValidator(
    _checked(_scalar_problem))]
"""Any JSON scalar (a fact's value): text checked like SafeText, numbers finite."""


def problem_in_json(value: object, path: str = "") -> tuple[str, str] | None:
    """The first place in parsed JSON (dotted path, e.g. `participant.0.actor.display`) whose
    text or number fails the checks above, with the problem; None when all is well. For
    bodies read as whole documents (FHIR resources) rather than through a model."""
    if isinstance(value, str):
        problem = text_problem(value)
        return (path, problem) if problem else None
    if isinstance(value, float):
        problem = number_problem(value)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            problem = text_problem(str(key), multiline=False)
            found = ((_printable(where), f"has a name that {problem}") if problem
                     else problem_in_json(item, where))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = problem_in_json(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")

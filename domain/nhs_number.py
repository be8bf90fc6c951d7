"""NHS numbers: ten digits, the last a modulus-11 check digit over the first nine.

Pure functions over text; the service keys patients by the normalised form (ten digits, no
spaces). Numbers beginning 999 are issued for testing only and never belong to a patient:
fixtures and the demo use those, and production refuses them when told to.
"""

from __future__ import annotations

import re

TEST_RANGE_PREFIX = "999"
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_SEPARATORS = re.compile(r"[\s-]")


class InvalidNhsNumber(ValueError):
    """Not a valid NHS number; the message says what is wrong with it."""

    def __init__(self, value: str, problem: str) -> None:
        super().__init__(f"NHS number '{value}' {problem}")
        self.value = value
        self.problem = problem


def check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit of nine digits, or None when no valid number has them
    (the remainder gives 10)."""
    total = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    return None if digit == 10 else digit


def normalise_nhs_number(value: str) -> str:
    """The ten digits of a valid NHS number (spaces and hyphens as printed are allowed);
    InvalidNhsNumber otherwise."""
    digits = _SEPARATORS.sub("", value or "")
    if len(digits) != 10 or not digits.isdigit():
        raise InvalidNhsNumber(value, "must be 10 digits")
    if len(set(digits)) == 1:
        raise InvalidNhsNumber(value, "cannot be one digit repeated")
    expected = check_digit(digits[:9])
    if expected is None or expected != int(digits[9]):
        raise InvalidNhsNumber(value, "fails the modulus-11 check (mistyped?)")
    return digits


def is_valid_nhs_number(value: str) -> bool:
    try:
        normalise_nhs_number(value)
    except InvalidNhsNumber:
        return False
    return True


def is_test_number(digits: str) -> bool:
    """Whether a (normalised) NHS number is from the range issued for testing."""
    return digits.startswith(TEST_RANGE_PREFIX)


def format_nhs_number(digits: str) -> str:
    """As printed on letters: 3 3 4 digits."""
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def nhs_test_numbers(count: int, start: int = 0) -> list[str]:
    """`count` valid NHS numbers from the test range 999, in order from `start` (for fixtures
    and the demo: deterministic and never a real patient's)."""
    numbers: list[str] = []
    serial = start
    while len(numbers) < count:
        first_nine = f"{TEST_RANGE_PREFIX}{serial:06d}"
        serial += 1
        digit = check_digit(first_nine)
        if digit is not None:
            numbers.append(first_nine + str(digit))
    return numbers

"""Phone numbers: the ways people write UK numbers all become E.164, a text goes only to a
mobile, and a bad number is refused with the field named."""

from __future__ import annotations

import pytest

from notifications.errors import InvalidFieldError
from notifications.phone_numbers import (
    display_phone_number,
    e164_mobile_number,
    e164_phone_number,
)


@pytest.mark.parametrize("written", [
    "07911 123456", "07911123456", "+44 7911 123456", "+447911123456", "(07911) 123 456",
    "+44 (0)7911 123456", "07911-123-456", " 07911 123456 ",
])
def test_a_uk_mobile_however_written_is_stored_in_e164(written: str) -> None:
    assert e164_mobile_number(written) == "+447911123456"


def test_a_landline_is_a_phone_number_but_not_a_mobile() -> None:
    assert e164_phone_number("0121 496 0000") == "+441214960000"
    with pytest.raises(InvalidFieldError) as caught:
        e164_mobile_number("0121 496 0000", field="mobile")
    assert caught.value.field == "mobile" and "not a mobile" in caught.value.problem


def test_an_international_number_keeps_its_country() -> None:
    assert e164_mobile_number("+33 6 12 34 56 78") == "+33612345678"


@pytest.mark.parametrize(("written", "problem"), [
    ("", "required"),
    ("   ", "required"),
    ("07911", "not a valid phone number"),
    ("07911 123456 789", "not a valid phone number"),
    ("call me", "not a phone number"),
    ("+999 123 456", "unknown country code"),
    ("0" * 41, "longer than 40"),
    ("07700 900123", "not a valid phone number"),
])
def test_a_bad_number_is_refused_naming_the_field(written: str, problem: str) -> None:
    with pytest.raises(InvalidFieldError) as caught:
        e164_mobile_number(written, field="patient.mobile")
    assert caught.value.field == "patient.mobile"
    assert problem in caught.value.problem
    assert str(caught.value).startswith("patient.mobile: ")


def test_ofcoms_drama_numbers_pass_only_when_fictional_numbers_are_allowed() -> None:
    assert e164_mobile_number("07700 900123", fictional=True) == "+447700900123"
    assert e164_phone_number("07700 900999", fictional=True) == "+447700900999"
    with pytest.raises(InvalidFieldError):
        e164_mobile_number("07700 901123", fictional=True)


@pytest.mark.parametrize(("stored", "shown"), [
    ("+447911123456", "07911 123456"),
    ("+441214960000", "0121 496 0000"),
    ("+447700900123", "07700 900123"),
    ("+33612345678", "+33 6 12 34 56 78"),
])
def test_a_stored_number_is_shown_as_people_write_it(stored: str, shown: str) -> None:
    assert display_phone_number(stored) == shown

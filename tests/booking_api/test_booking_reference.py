"""Booking references: readable, checkable, and forgiving of case, spaces and dashes."""

from __future__ import annotations

import random

import pytest

from booking_api.requests.booking_reference import (
    ALPHABET,
    BookingReferenceError,
    new_booking_reference,
    normalise_booking_reference,
)


def test_new_reference_has_the_display_shape_and_no_look_alike_characters() -> None:
    reference = new_booking_reference(random.Random(7))

    assert [len(part) for part in reference.split("-")] == [4, 4, 2]
    assert set(reference.replace("-", "")) <= set(ALPHABET)
    assert not set("01IOLSZBG8V6") & set(reference)


def test_typed_reference_is_normalised_whatever_the_case_and_spacing() -> None:
    reference = new_booking_reference(random.Random(3))
    typed = " " + reference.lower().replace("-", " ") + " "

    assert normalise_booking_reference(typed) == reference


def test_every_single_mistyped_character_is_caught() -> None:
    reference = new_booking_reference(random.Random(11)).replace("-", "")
    for position in range(len(reference)):
        for wrong in ALPHABET:
            if wrong == reference[position]:
                continue
            typo = reference[:position] + wrong + reference[position + 1:]
            with pytest.raises(BookingReferenceError):
                normalise_booking_reference(typo)


@pytest.mark.parametrize(("typed", "says"), [
    ("", "must be 10"),
    ("JK3D-PNJE", "must be 10"),
    ("JK3D-PNJE-NCX", "must be 10"),
    ("JK3D-PNJE-N0", "cannot contain 0"),
    ("JK3D-PNJE-NC!", "must be 10"),
    ("JK3D-PNJE-NA", "not valid"),
])
def test_bad_reference_gets_a_message_fit_for_a_patient(typed: str, says: str) -> None:
    with pytest.raises(BookingReferenceError, match=says):
        normalise_booking_reference(typed)

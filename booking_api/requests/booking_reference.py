"""Booking references: what a patient types (with their date of birth) to manage a booking.

Ten characters from a 24-symbol alphabet that keeps one of each look-alike pair (0/O, 1/I/L,
2/Z, 5/S, 6/G, 8/B, U/V), shown as XXXX-XXXX-XX. The last character is a Luhn mod-24 check, so
any single mistyped character and most swapped neighbours are caught before a lookup.
"""

from __future__ import annotations

import random

ALPHABET = "234579ACDEFHJKMNPQRTUWXY"
PAYLOAD_LENGTH = 9
GROUPS = (4, 4, 2)


class BookingReferenceError(ValueError):
    """Text that cannot be a booking reference; the message is fit to show a patient."""


def new_booking_reference(rng: random.Random) -> str:
    """A fresh reference in display form; uniqueness is the database's job (unique column)."""
    payload = "".join(rng.choice(ALPHABET) for _ in range(PAYLOAD_LENGTH))
    return _display(payload + _check_character(payload))


def normalise_booking_reference(text: str) -> str:
    """The display form of what a person typed (any case, spaces or dashes), or an error."""
    compact = "".join(ch for ch in text.upper() if ch not in " -")
    if len(compact) != PAYLOAD_LENGTH + 1:
        raise BookingReferenceError(
            f"Booking reference must be {PAYLOAD_LENGTH + 1} letters and numbers, "
            f"like {EXAMPLE}"
        )
    wrong = sorted({ch for ch in compact if ch not in ALPHABET})
    if wrong:
        raise BookingReferenceError(
            f"Booking reference cannot contain {', '.join(wrong)}: check the letters and "
            "numbers in your letter or text message"
        )
    if _check_character(compact[:-1]) != compact[-1]:
        raise BookingReferenceError(
            "Booking reference is not valid: check it against your letter or text message"
        )
    return _display(compact)


def _check_character(payload: str) -> str:
    base = len(ALPHABET)
    total = 0
    factor = 2
    for ch in reversed(payload):
        addend = factor * ALPHABET.index(ch)
        total += addend // base + addend % base
        factor = 3 - factor
    return ALPHABET[(base - total % base) % base]


def _display(compact: str) -> str:
    parts, start = [], 0
    for size in GROUPS:
        parts.append(compact[start:start + size])
        start += size
    return "-".join(parts)


EXAMPLE = new_booking_reference(random.Random(0))

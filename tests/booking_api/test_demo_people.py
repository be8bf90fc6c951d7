"""Demo patients are fictional by construction and the same on every run."""

from __future__ import annotations

from datetime import date

from booking_api.demo.people import demo_patients
from booking_api.requests.booking_reference import normalise_booking_reference
from domain.exams import exam_catalogue
from domain.network import Network


def _nhs_check_digit_ok(number: str) -> bool:
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(number[:9])) % 11
    return (11 - remainder) % 11 == int(number[9])


def test_demo_identities_use_ranges_reserved_for_fiction(tiny_network: Network) -> None:
    people = demo_patients(tiny_network, exam_catalogue(), date(2026, 11, 30), count=50)

    assert all(p.nhs_number.startswith("999") and _nhs_check_digit_ok(p.nhs_number)
               for p in people)
    assert all(p.phone.startswith("+447700900") and len(p.phone) == 13 for p in people)
    assert all(p.email.endswith("@example.com") for p in people)
    assert len({p.nhs_number for p in people}) == len({p.phone for p in people}) == 50


def test_demo_people_are_the_same_on_every_run_apart_from_dates(tiny_network: Network) -> None:
    first = demo_patients(tiny_network, exam_catalogue(), date(2026, 11, 30))
    later = demo_patients(tiny_network, exam_catalogue(), date(2027, 2, 1))

    def identity(people):
        return [(p.nhs_number, p.given_name, [(r.booking_reference, r.exam_code, r.priority)
                                              for r in p.requests]) for p in people]

    assert identity(first) == identity(later)


def test_every_demo_request_has_a_valid_unique_reference_and_an_open_window(
    tiny_network: Network,
) -> None:
    today = date(2026, 11, 30)
    requests = [r for p in demo_patients(tiny_network, exam_catalogue(), today)
                for r in p.requests]

    references = [r.booking_reference for r in requests]
    assert len(set(references)) == len(references)
    assert all(normalise_booking_reference(ref) == ref for ref in references)
    assert all(r.earliest_date <= r.latest_date and r.latest_date >= today for r in requests)
    assert all(r.received_at.date() < today for r in requests)

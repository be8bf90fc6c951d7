"""Patient identity: an exact NHS number with an agreeing date of birth matches; a
disagreeing date of birth or any demographic likeness goes to a clerk (never merged)."""

from __future__ import annotations

from datetime import date

import pytest

from booking_api.core.db import Database
from booking_api.patients.identity import (
    MatchKind,
    PatientDetails,
    match_patient,
    register_patient,
)
from booking_api.patients.models import Patient
from domain.nhs_number import InvalidNhsNumber, nhs_test_numbers, normalise_nhs_number

KNOWN = PatientDetails("Jane", "Smith", date(1980, 1, 15), "B15 2TH", "9990000018")


@pytest.fixture
def known(interop_db: Database) -> int:
    with interop_db.transaction() as session:
        patient = Patient(given_name="Jane", family_name="Smith",
                          date_of_birth=date(1980, 1, 15), postcode_district="B15",
                          nhs_number="9990000018")
        session.add(patient)
        session.flush()
        return patient.id


def _match(db: Database, details: PatientDetails):
    with db.reading() as session:
        return match_patient(session, details)


def test_the_nhs_number_with_the_same_date_of_birth_matches(interop_db, known) -> None:
    assert _match(interop_db, KNOWN).patient_id == known


def test_the_nhs_number_with_another_date_of_birth_goes_to_a_clerk(interop_db, known) -> None:
    match = _match(interop_db, PatientDetails("Jane", "Smith", date(1980, 1, 16),
                                              nhs_number="9990000018"))

    assert match.kind is MatchKind.NEEDS_CLERK and match.candidates == (known,)


@pytest.mark.parametrize("details", [
    PatientDetails("Jane", "SMITH", date(1980, 1, 15)),
    PatientDetails("Jane", "Smyth", date(1980, 1, 15), "B15 9ZZ"),
    PatientDetails("Janet", "Smith", date(1980, 1, 15), nhs_number="9990000026"),
])
def test_a_demographic_likeness_is_never_merged(interop_db, known, details) -> None:
    match = _match(interop_db, details)

    assert match.kind is MatchKind.NEEDS_CLERK and match.patient_id is None
    assert known in match.candidates


def test_nobody_alike_is_a_new_patient(interop_db, known) -> None:
    match = _match(interop_db, PatientDetails("Omar", "Khan", date(1975, 3, 2), "B23 1AA"))

    assert match.kind is MatchKind.NEW


@pytest.mark.parametrize(("district", "area"), [("B23", "B23"), ("B99", None)])
def test_a_new_patient_lives_in_their_districts_demand_area_when_the_network_has_one(
        interop_db: Database, district: str, area: str | None) -> None:
    with interop_db.transaction() as session:
        patient_id = register_patient(session, PatientDetails(
            "Omar", "Khan", date(1975, 3, 2), f"{district} 1AA"))
    with interop_db.reading() as session:
        assert session.get(Patient, patient_id).area_id == area


@pytest.mark.parametrize("text", ["9990000017", "999000001", "99900000189", "999000001X",
                                  "1111111111", ""])
def test_an_invalid_nhs_number_is_refused(text: str) -> None:
    with pytest.raises(InvalidNhsNumber, match="NHS number"):
        normalise_nhs_number(text)


def test_test_range_numbers_pass_the_modulus_11_check() -> None:
    numbers = nhs_test_numbers(50)

    assert all(normalise_nhs_number(n) == n and n.startswith("999") for n in numbers)
    assert normalise_nhs_number("943 476 5919") == "9434765919"

"""Who an incoming order is for: the patient with its NHS number, a new patient, or a
question for a clerk. Demographics alone never decide: a name, date of birth and postcode
that look like an existing patient's put the order in the clerk's match queue (a wrong-patient
match is hazard H-INT-01 in docs/clinical-safety.md), and so does an NHS number whose
patient's date of birth disagrees with the order's.

Matching reads only; `register_patient` writes the new patient in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import func, select
from sqlmodel import Session

from booking_api.network.models import DemandArea
from booking_api.patients.models import Patient
from domain.nhs_number import normalise_nhs_number

MAX_CANDIDATES = 10


@dataclass(frozen=True)
class PatientDetails:
    """A patient as an order describes them (already checked: NHS number normalised)."""

    given_name: str
    family_name: str
    date_of_birth: date
    postcode: str | None = None
    nhs_number: str | None = None
    phone: str | None = None
    email: str | None = None
    interpreter_language: str | None = None

    @property
    def postcode_district(self) -> str:
        """The outward code of the postcode ('B15' of 'B15 2TH'), or '' when unknown."""
        return (self.postcode or "").upper().split(" ")[0][:8] if self.postcode else ""


class MatchKind(StrEnum):
    MATCHED = "matched"
    """The NHS number is a known patient's and the date of birth agrees."""
    NEW = "new"
    """Nobody like this is known: a new patient may be registered."""
    NEEDS_CLERK = "needs_clerk"
    """Demographics resemble a known patient, or the NHS number and date of birth disagree:
    a person decides (never merged automatically)."""


@dataclass(frozen=True)
class PatientMatch:
    kind: MatchKind
    patient_id: int | None = None
    candidates: tuple[int, ...] = field(default_factory=tuple)
    reason: str = ""


def match_patient(session: Session, details: PatientDetails) -> PatientMatch:
    """Find the patient an order is for, without changing anything."""
    if details.nhs_number:
        known = session.scalars(select(Patient).where(
            Patient.nhs_number == details.nhs_number)).first()
        if known is not None:
            if known.date_of_birth == details.date_of_birth:
                return PatientMatch(MatchKind.MATCHED, known.id, (known.id,),
                                    "NHS number and date of birth agree")
            return PatientMatch(MatchKind.NEEDS_CLERK, None, (known.id,),
                                "the NHS number is a known patient's but the date of birth "
                                "differs")
    candidates = demographic_candidates(session, details)
    if candidates:
        return PatientMatch(MatchKind.NEEDS_CLERK, None, candidates,
                            "the name and date of birth resemble "
                            f"{len(candidates)} known patient(s)")
    return PatientMatch(MatchKind.NEW, None, (), "no known patient resembles the order's")


def demographic_candidates(session: Session, details: PatientDetails) -> tuple[int, ...]:
    """Known patients with the same date of birth and family name (any case), or the same
    date of birth, given name and postcode district: possibly the same person."""
    family = func.lower(Patient.family_name) == details.family_name.strip().lower()
    same_place = (func.lower(Patient.given_name) == details.given_name.strip().lower())
    if details.postcode_district:
        same_place = same_place & (Patient.postcode_district == details.postcode_district)
    rows = session.scalars(
        select(Patient.id).where(Patient.date_of_birth == details.date_of_birth,
                                 family | same_place)
        .order_by(Patient.id).limit(MAX_CANDIDATES))
    return tuple(rows)


def register_patient(session: Session, details: PatientDetails) -> Patient:
    """Add a patient (caller's transaction); their demand area is their postcode district
    when the network knows it, looked up inside the INSERT (one round trip fewer per order)."""
    district = details.postcode_district
    area_id = (select(DemandArea.area_id).where(DemandArea.area_id == district)
               .scalar_subquery() if district else None)
    patient = Patient(
        nhs_number=normalise_nhs_number(details.nhs_number) if details.nhs_number else None,
        given_name=details.given_name.strip(), family_name=details.family_name.strip(),
        date_of_birth=details.date_of_birth, postcode_district=district,
        postcode=(details.postcode or None) and details.postcode.upper(),
        area_id=area_id, phone=details.phone, email=details.email,
        interpreter_language=details.interpreter_language)
    session.add(patient)
    session.flush()
    return patient

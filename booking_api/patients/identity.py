"""Who an incoming order is for: the patient with its NHS number, a new patient, or a
question for a clerk. Demographics alone never decide: a name, date of birth and postcode
that look like an existing patient's put the order in the clerk's match queue (a wrong-patient
match is hazard H-INT-01 in docs/clinical-safety.md), and so does an NHS number whose
patient's date of birth disagrees with the order's.

Matching reads only; `register_patient` writes the new patient in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Select,
    String,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    union_all,
)
from sqlmodel import Session

from booking_api.core.columns import utc_now
from booking_api.network.models import DemandArea
from booking_api.patients.models import ContactPreference, Patient
from domain.nhs_number import normalise_nhs_number

MAX_CANDIDATES = 10
NHS_MATCH = "nhs"
LOOK_ALIKE = "alike"


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
    """Find the patient an order is for, without changing anything (one statement)."""
    rows = session.connection().execute(candidate_rows(details),
                                        candidate_parameters(details)).all()
    return judge_match(details, rows)


def candidate_rows(details: PatientDetails) -> CompoundSelect:
    """The patients an order may be for, as (kind, id, date_of_birth) rows: the holder of
    its NHS number (kind 'nhs') and the demographic look-alikes (kind 'alike', at most
    MAX_CANDIDATES, lowest ids): the same date of birth and family name (any case), or the
    same date of birth, given name and postcode district. One statement, built once per
    shape of details, with parameters (`candidate_parameters`)."""
    return _union(candidate_selects(details))


def candidate_selects(details: PatientDetails) -> tuple[Select, ...]:
    """The SELECTs of `candidate_rows`, for a caller that adds rows of its own to the same
    UNION ALL (one statement asking more)."""
    return _candidate_selects(bool(details.nhs_number), bool(details.postcode_district))


def candidate_parameters(details: PatientDetails) -> dict[str, Any]:
    return {"p_nhs": details.nhs_number, "p_dob": details.date_of_birth,
            "p_family": details.family_name.strip().lower(),
            "p_given": details.given_name.strip().lower(),
            "p_district": details.postcode_district}


def judge_match(details: PatientDetails, rows: Iterable[Any]) -> PatientMatch:
    """The match `candidate_rows` found (rows of other kinds are ignored): the NHS number's
    patient when the date of birth agrees; a clerk's question when it does not, or when only
    look-alikes are known; otherwise a new patient."""
    by_nhs = [row for row in rows if row.kind == NHS_MATCH]
    if details.nhs_number and by_nhs:
        known = by_nhs[0]
        if known.date_of_birth == details.date_of_birth:
            return PatientMatch(MatchKind.MATCHED, known.id, (known.id,),
                                "NHS number and date of birth agree")
        return PatientMatch(MatchKind.NEEDS_CLERK, None, (known.id,),
                            "the NHS number is a known patient's but the date of birth "
                            "differs")
    candidates = tuple(sorted(row.id for row in rows if row.kind == LOOK_ALIKE))
    if candidates:
        return PatientMatch(MatchKind.NEEDS_CLERK, None, candidates,
                            "the name and date of birth resemble "
                            f"{len(candidates)} known patient(s)")
    return PatientMatch(MatchKind.NEW, None, (), "no known patient resembles the order's")


@cache
def _candidate_selects(with_nhs: bool, with_district: bool) -> tuple[Select, ...]:
    family = func.lower(Patient.family_name) == bindparam("p_family", type_=String)
    same_place = func.lower(Patient.given_name) == bindparam("p_given", type_=String)
    if with_district:
        same_place = same_place & (Patient.postcode_district == bindparam("p_district"))
    alike = (select(literal_column(f"'{LOOK_ALIKE}'").label("kind"), Patient.id,
                    Patient.date_of_birth)
             .where(Patient.date_of_birth == bindparam("p_dob"), family | same_place)
             .order_by(Patient.id).limit(MAX_CANDIDATES).subquery())
    parts = [select(alike)]  # a LIMITed member of a compound must be a subquery (SQLite)
    if with_nhs:
        parts.append(select(literal_column(f"'{NHS_MATCH}'").label("kind"), Patient.id,
                            Patient.date_of_birth)
                     .where(Patient.nhs_number == bindparam("p_nhs")))
    return tuple(parts)


@cache
def _union(parts: tuple[Select, ...]) -> CompoundSelect:
    return union_all(*parts)


def register_patient(session: Session, details: PatientDetails) -> int:
    """Add a patient (caller's transaction) and return their id: one INSERT, their demand
    area (their postcode district when the network knows it) looked up inside it."""
    return session.connection().execute(_INSERT_PATIENT, {
        "p_nhs": normalise_nhs_number(details.nhs_number) if details.nhs_number else None,
        "p_given": details.given_name.strip(), "p_family": details.family_name.strip(),
        "p_dob": details.date_of_birth, "p_district": details.postcode_district,
        "p_postcode": (details.postcode or None) and details.postcode.upper(),
        "p_phone": details.phone, "p_email": details.email,
        "p_language": details.interpreter_language, "p_created": utc_now()}).scalar_one()


_INSERT_PATIENT = insert(Patient).values(
    nhs_number=bindparam("p_nhs"), given_name=bindparam("p_given"),
    family_name=bindparam("p_family"), date_of_birth=bindparam("p_dob"),
    postcode_district=bindparam("p_district"), postcode=bindparam("p_postcode"),
    area_id=select(DemandArea.area_id).where(DemandArea.area_id == bindparam("p_district"))
    .scalar_subquery(),
    phone=bindparam("p_phone"), email=bindparam("p_email"), needs_step_free=False,
    needs_hoist=False, interpreter_language=bindparam("p_language"), needs_transport=False,
    sms_opt_out=False, contact_preference=ContactPreference.BOTH,
    created_at=bindparam("p_created")).returning(Patient.id)

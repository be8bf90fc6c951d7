"""The facts an appointability rule may refer to, with their types and the words a clerk sees.

A rule file that names a fact not listed here is refused at load time; a request's facts are
checked against the same types before any rule looks at them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from difflib import get_close_matches
from enum import StrEnum

from domain.vocabulary import ExamFamily, Modality, Priority


class FactType(StrEnum):
    BOOLEAN = "boolean"
    INTEGER = "integer"
    NUMBER = "number"
    TEXT = "text"
    DATE = "date"
    CHOICE = "choice"


@dataclass(frozen=True)
class Fact:
    name: str
    type: FactType
    label: str
    """How a clerk reads the fact's name: 'eGFR result date'."""
    choices: frozenset[str] = frozenset()

    @property
    def is_ordered(self) -> bool:
        """Whether gt/gte/lt/lte make sense for this fact."""
        return self.type in (FactType.INTEGER, FactType.NUMBER, FactType.DATE)

    def accepts(self, value: object) -> bool:
        """Whether a value is of this fact's type (None means 'not known' and is always fine)."""
        if value is None:
            return True
        return _ACCEPTS[self.type](self, value)


class FactError(ValueError):
    """A request's fact is unknown to the registry or has a value of the wrong type."""

    def __init__(self, fact: str, problem: str) -> None:
        super().__init__(f"fact '{fact}': {problem}")
        self.fact = fact


_ACCEPTS = {
    FactType.BOOLEAN: lambda fact, v: isinstance(v, bool),
    FactType.INTEGER: lambda fact, v: isinstance(v, int) and not isinstance(v, bool),
    FactType.NUMBER: lambda fact, v: isinstance(v, int | float) and not isinstance(v, bool),
    FactType.TEXT: lambda fact, v: isinstance(v, str),
    FactType.DATE: lambda fact, v: isinstance(v, date),
    FactType.CHOICE: lambda fact, v: isinstance(v, str) and v in fact.choices,
}

SEX_CHOICES = frozenset({"female", "male", "other", "not_known"})
VETTING_CHOICES = frozenset({"pending", "justified", "rejected"})


def _facts(*facts: Fact) -> Mapping[str, Fact]:
    return {fact.name: fact for fact in facts}


_B, _I, _N, _T, _D, _C = (FactType.BOOLEAN, FactType.INTEGER, FactType.NUMBER, FactType.TEXT,
                          FactType.DATE, FactType.CHOICE)

FACTS: Mapping[str, Fact] = _facts(
    # The patient
    Fact("age_years", _I, "age"),
    Fact("sex", _C, "recorded sex", SEX_CHOICES),
    Fact("weight_kg", _N, "weight (kg)"),
    Fact("diabetes", _B, "diabetes"),
    Fact("renal_impairment", _B, "known renal impairment"),
    Fact("egfr_date", _D, "date of the latest eGFR result"),
    Fact("egfr_ml_min", _N, "latest eGFR (mL/min/1.73m²)"),
    Fact("mri_questionnaire_returned", _B, "MRI safety questionnaire returned"),
    Fact("mr_unsafe_implant", _B, "MR-unsafe implant"),
    Fact("mri_safety_review_needed", _B, "MRI safety answers need a radiographer's review"),
    Fact("contrast_allergy", _B, "reaction to contrast dye before"),
    Fact("metformin", _B, "takes metformin"),
    Fact("pregnancy_status_recorded", _B, "pregnancy status recorded"),
    Fact("contact_phone", _T, "contact phone number"),
    Fact("contact_email", _T, "contact email address"),
    Fact("interpreter_needed", _B, "interpreter needed"),
    Fact("interpreter_language", _T, "interpreter language"),
    Fact("transport_needed", _B, "hospital transport needed"),
    Fact("chaperone_requested", _B, "chaperone requested"),
    # The request and its vetting
    Fact("vetting_complete", _B, "vetting complete"),
    Fact("vetting_outcome", _C, "vetting outcome", VETTING_CHOICES),
    Fact("protocol_assigned", _B, "protocol assigned"),
    Fact("exam_code", _T, "exam"),
    Fact("modality", _C, "modality", frozenset(m.value for m in Modality)),
    Fact("exam_family", _C, "exam family", frozenset(f.value for f in ExamFamily)),
    Fact("has_contrast", _B, "contrast"),
    Fact("sedation", _B, "sedation"),
    Fact("ionising_pelvis_abdomen", _B, "ionising exam of the pelvis or abdomen"),
    Fact("prep_notice_days", _I, "days of notice the preparation needs"),
    Fact("priority", _C, "priority", frozenset(p.value for p in Priority)),
    Fact("due_date", _D, "due date of the planned test"),
    Fact("latest_date", _D, "latest clinically acceptable date"),
    Fact("self_booking", _B, "invited to book online"),
)


def fact_named(name: str) -> Fact:
    """The registered fact of that name; raises FactError listing close names otherwise."""
    try:
        return FACTS[name]
    except KeyError:
        raise FactError(name, "no such fact" + _did_you_mean(name)) from None


def check_facts(facts: Mapping[str, object]) -> None:
    """Refuse a request's facts if any is unregistered or of the wrong type."""
    for name, value in facts.items():
        fact = fact_named(name)
        if not fact.accepts(value):
            expected = (f"one of {sorted(fact.choices)}" if fact.type is FactType.CHOICE
                        else f"a {fact.type}")
            raise FactError(name, f"{value!r} is not {expected}")


def _did_you_mean(name: str) -> str:
    close = get_close_matches(name, FACTS, n=3)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""

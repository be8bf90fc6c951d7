"""What a patient may tell us they need for their visit, and which examinations are intimate
(a chaperone is offered for them). Plain data; the service stores the needs where the rules
already read them (the patient's access needs, the request's facts)."""

from __future__ import annotations

from dataclasses import dataclass

INTIMATE_EXAM_CODES = frozenset({
    "UPELV",  # ultrasound pelvis, transvaginal
    "UTEST",  # ultrasound testes
    "FHSGR",  # hysterosalpingogram
    "MBREA",  # MRI breasts
})
"""Examinations of the breasts, genitals or rectum by a clinician, for which NHS chaperone
policy says a chaperone is offered to every patient."""

MAX_LANGUAGE_LENGTH = 50


@dataclass(frozen=True)
class PatientNeeds:
    """Everything the patient says they need; `interpreter_language` None means none."""

    interpreter_language: str | None = None
    step_free: bool = False
    hoist: bool = False
    transport: bool = False
    chaperone: bool = False

    def __post_init__(self) -> None:
        language = self.interpreter_language
        if language is not None and not (0 < len(language.strip()) <= MAX_LANGUAGE_LENGTH):
            raise ValueError(f"interpreter_language: 1 to {MAX_LANGUAGE_LENGTH} characters")


def offers_chaperone(exam_code: str) -> bool:
    return exam_code in INTIMATE_EXAM_CODES

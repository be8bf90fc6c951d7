"""A request whose facts pass every shipped appointability rule, to vary one fact at a time."""

from datetime import date

TODAY = date(2027, 3, 1)

CLEAN_FACTS: dict[str, object] = {
    "vetting_complete": True,
    "vetting_outcome": "justified",
    "protocol_assigned": True,
    "age_years": 40,
    "sex": "female",
    "has_contrast": False,
    "diabetes": False,
    "renal_impairment": False,
    "modality": "CT",
    "exam_family": "CT_PLAIN",
    "ionising_pelvis_abdomen": False,
    "prep_notice_days": 0,
    "priority": "routine",
    "self_booking": False,
    "interpreter_needed": False,
    "transport_needed": False,
    "sedation": False,
}


def facts(**changes: object) -> dict[str, object]:
    """The clean facts with some changed; a value of None removes the fact (not recorded)."""
    result = {**CLEAN_FACTS, **changes}
    return {name: value for name, value in result.items() if value is not None}

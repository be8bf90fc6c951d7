"""An order as it arrives, whatever the channel (HL7 ORM/OMI or a FHIR ServiceRequest):
plain, already-checked values the order flows act on, and its JSON form for the clerk's
queue (a held order is finished later from exactly what was received)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from booking_api.patients.identity import PatientDetails
from domain.vocabulary import Priority

NICIP = "NICIP"
SNOMED = "SNOMED"
CODE_SYSTEM_ALIASES = {"NICIP": NICIP, "SNM": SNOMED, "SCT": SNOMED, "SNOMED": SNOMED,
                       "SNOMED-CT": SNOMED, "HTTP://SNOMED.INFO/SCT": SNOMED}
LOCAL_SYSTEMS = frozenset({"", "L", "LN-LOCAL", "99LOCAL", "LOCAL"})
"""Codes without a system, or marked local: read in the placer's own system."""


class OrderControl(StrEnum):
    NEW = "NW"
    CANCEL = "CA"
    CHANGE = "XO"


@dataclass(frozen=True)
class OrderCode:
    code_system: str
    """NICIP, SNOMED, or the placer's own system name for its local codes."""
    code: str
    text: str | None = None


@dataclass(frozen=True)
class IncomingOrder:
    control: OrderControl
    placer_system: str
    placer_order_number: str
    patient: PatientDetails
    code: OrderCode | None
    priority: Priority
    referrer: str
    clinical_question: str | None = None
    ordered_at: datetime | None = None
    reason: str | None = None
    """Why it was cancelled or changed, when the placer said."""

    def to_json(self) -> dict[str, Any]:
        raw = asdict(self)
        raw["patient"]["date_of_birth"] = self.patient.date_of_birth.isoformat()
        raw["ordered_at"] = self.ordered_at.isoformat() if self.ordered_at else None
        return raw

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> IncomingOrder:
        patient = dict(raw["patient"])
        patient["date_of_birth"] = date.fromisoformat(patient["date_of_birth"])
        code = raw.get("code")
        return cls(control=OrderControl(raw["control"]), placer_system=raw["placer_system"],
                   placer_order_number=raw["placer_order_number"],
                   patient=PatientDetails(**patient),
                   code=OrderCode(**code) if code else None,
                   priority=Priority(raw["priority"]), referrer=raw["referrer"],
                   clinical_question=raw.get("clinical_question"),
                   ordered_at=(datetime.fromisoformat(raw["ordered_at"])
                               if raw.get("ordered_at") else None),
                   reason=raw.get("reason"))


def code_system_of(declared: str, placer_system: str) -> str:
    """Our name for an order code's system: NICIP or SNOMED, else the placer's own."""
    key = (declared or "").strip().upper()
    if key in CODE_SYSTEM_ALIASES:
        return CODE_SYSTEM_ALIASES[key]
    if key in LOCAL_SYSTEMS or key.startswith("99"):
        return placer_system
    return key

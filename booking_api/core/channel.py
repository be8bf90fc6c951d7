"""Where an action came from: recorded on appointments and audit events."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    PORTAL = "portal"
    CLERK = "clerk"
    SMS = "sms"
    FHIR = "fhir"
    HL7 = "hl7"
    BACKFILL = "backfill"
    SYSTEM = "system"
    SEED = "seed"

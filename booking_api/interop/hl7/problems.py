"""Why an HL7 message was not accepted, located the way HL7 locates errors (ERR-2: segment,
field, component) and coded from HL7 table 0357, so the ACK names the field at fault."""

from __future__ import annotations

from dataclasses import dataclass

from booking_api.interop.models import AckCode

SEGMENT_SEQUENCE_ERROR = "100"
REQUIRED_FIELD_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT_CODE = "201"
UNSUPPORTED_VERSION = "203"
UNKNOWN_KEY = "204"
DUPLICATE_KEY = "205"
APPLICATION_ERROR = "207"

ERROR_NAMES = {
    SEGMENT_SEQUENCE_ERROR: "Segment sequence error",
    REQUIRED_FIELD_MISSING: "Required field missing",
    DATA_TYPE_ERROR: "Data type error",
    TABLE_VALUE_NOT_FOUND: "Table value not found",
    UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT_CODE: "Unsupported event code",
    UNSUPPORTED_VERSION: "Unsupported version id",
    UNKNOWN_KEY: "Unknown key identifier",
    DUPLICATE_KEY: "Duplicate key identifier",
    APPLICATION_ERROR: "Application internal error",
}


@dataclass(frozen=True)
class Location:
    """Where in a message: segment id, field number, component (1-based; 0 = whole)."""

    segment: str
    field: int = 0
    component: int = 0

    def __str__(self) -> str:
        place = self.segment
        if self.field:
            place += f"-{self.field}"
        if self.component:
            place += f".{self.component}"
        return place


class HL7Problem(Exception):
    """A message refused: AE (content at fault) or AR (cannot be processed at all)."""

    def __init__(self, location: Location, code: str, text: str,
                 ack_code: AckCode = AckCode.ERROR) -> None:
        super().__init__(f"{location}: {text}")
        self.location = location
        self.code = code
        self.text = text
        self.ack_code = ack_code


def missing(location: Location, what: str) -> HL7Problem:
    return HL7Problem(location, REQUIRED_FIELD_MISSING, f"{what} is required")


def bad_type(location: Location, what: str, value: str, expected: str) -> HL7Problem:
    return HL7Problem(location, DATA_TYPE_ERROR, f"{what} '{value}' is not {expected}")

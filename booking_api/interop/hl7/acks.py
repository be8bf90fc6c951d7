"""General acknowledgements (ACK), written as ER7 by `er7` (building one with hl7apy took
most of an order's CPU; the tests parse every kind back with hl7apy at strict validation):
AA when the message was taken, AE when its content is at fault, AR when it could not be
processed; an error carries an ERR segment locating the field (ERR-2), coding the error
(ERR-3, HL7 table 0357) and saying what to fix in words (ERR-8), and MSA-3 repeats those
words for older receivers."""

from __future__ import annotations

import uuid
from datetime import datetime

from booking_api.interop.hl7.er7 import Delimiters
from booking_api.interop.hl7.order_messages import Header
from booking_api.interop.hl7.problems import ERROR_NAMES, HL7Problem
from booking_api.interop.models import AckCode

OUR_APPLICATION = "CDIP"
OUR_FACILITY = "WMIN"
VERSION = "2.5.1"
UNKNOWN_HEADER = Header("", "", OUR_APPLICATION, OUR_FACILITY, "", "", "", VERSION, "P")
ER7 = Delimiters()


def build_ack(header: Header, code: AckCode, control_id: str, now: datetime,
              problem: HL7Problem | None = None, text: str | None = None) -> str:
    """The ACK to `header`'s message, in ER7 (segments separated by CR)."""
    words = problem.text if problem else text
    msa = ["MSA", code.value, _escape(header.control_id)]
    if words:
        msa.append(_escape(words[:80]))
    segments = [_msh(header, control_id, now), "|".join(msa)]
    if problem is not None:
        segments.append("|".join([
            "ERR", "", _error_location(problem),
            f"{problem.code}^{_escape(ERROR_NAMES.get(problem.code, ''))}^HL70357", "E",
            "", "", "", _escape(problem.text[:250])]))
    return "\r".join(segments)


def _error_location(problem: HL7Problem) -> str:
    """ERR-2 (ERL): segment^sequence[^field^repetition[^component]]."""
    location = problem.location
    parts = [location.segment, "1"]
    if location.field:
        parts += [str(location.field), "1"]
        if location.component:
            parts.append(str(location.component))
    return "^".join(parts)


def _msh(header: Header, control_id: str, now: datetime) -> str:
    trigger = header.trigger_structure.split("^")[1] if "^" in header.trigger_structure \
        else ""
    return "|".join([
        "MSH", "^~\\&", _escape(header.receiving_application or OUR_APPLICATION),
        _escape(header.receiving_facility or OUR_FACILITY),
        _escape(header.sending_application), _escape(header.sending_facility),
        now.strftime("%Y%m%d%H%M%S"), "", f"ACK^{_escape(trigger)}^ACK", _escape(control_id),
        _escape(header.processing_id or "P"), VERSION])


def _escape(text: str) -> str:
    """HL7 escapes for the delimiters a value may contain."""
    return ER7.escaped(text)


def new_control_id() -> str:
    """A fresh MSH-10 for a message we send (20 characters, unique)."""
    return uuid.uuid4().hex[:20].upper()

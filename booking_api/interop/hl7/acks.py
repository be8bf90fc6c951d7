"""General acknowledgements (ACK) built with hl7apy: AA when the message was taken, AE when
its content is at fault, AR when it could not be processed; an error carries an ERR segment
locating the field (ERR-2), coding the error (ERR-3, HL7 table 0357) and saying what to fix
in words (ERR-8), and MSA-3 repeats those words for older receivers."""

from __future__ import annotations

import uuid
from datetime import datetime

from hl7apy.core import Message

from booking_api.interop.hl7.order_messages import Header
from booking_api.interop.hl7.problems import ERROR_NAMES, HL7Problem
from booking_api.interop.models import AckCode

OUR_APPLICATION = "CDIP"
OUR_FACILITY = "WMIN"
VERSION = "2.5.1"
UNKNOWN_HEADER = Header("", "", OUR_APPLICATION, OUR_FACILITY, "", "", "", VERSION, "P")


def build_ack(header: Header, code: AckCode, control_id: str, now: datetime,
              problem: HL7Problem | None = None, text: str | None = None) -> str:
    """The ACK to `header`'s message, in ER7 (segments separated by CR)."""
    ack = Message("ACK", version=VERSION)
    _msh(ack, header, control_id, now)
    ack.msa.msa_1 = code.value
    ack.msa.msa_2 = _escape(header.control_id)
    words = problem.text if problem else text
    if words:
        ack.msa.msa_3 = _escape(words)[:80]
    if problem is not None:
        err = ack.add_segment("ERR")
        err.err_2 = _error_location(problem)
        err.err_3 = f"{problem.code}^{ERROR_NAMES.get(problem.code, '')}^HL70357"
        err.err_4 = "E"
        err.err_8 = _escape(problem.text)[:250]
    return ack.to_er7()


def _error_location(problem: HL7Problem) -> str:
    """ERR-2 (ERL): segment^sequence[^field^repetition[^component]]."""
    location = problem.location
    parts = [location.segment, "1"]
    if location.field:
        parts += [str(location.field), "1"]
        if location.component:
            parts.append(str(location.component))
    return "^".join(parts)


def _msh(message: Message, header: Header, control_id: str, now: datetime) -> None:
    msh = message.msh
    msh.msh_3 = header.receiving_application or OUR_APPLICATION
    msh.msh_4 = header.receiving_facility or OUR_FACILITY
    msh.msh_5 = _escape(header.sending_application)
    msh.msh_6 = _escape(header.sending_facility)
    msh.msh_7 = now.strftime("%Y%m%d%H%M%S")
    msh.msh_9 = "ACK^" + (header.trigger_structure.split("^")[1] if "^" in
                          header.trigger_structure else "") + "^ACK"
    msh.msh_10 = control_id
    msh.msh_11 = header.processing_id or "P"
    msh.msh_12 = VERSION


def _escape(text: str) -> str:
    """HL7 escapes for the delimiters a value may contain."""
    return (text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("&", "\\T\\").replace("~", "\\R\\"))


def new_control_id() -> str:
    """A fresh MSH-10 for a message we send (20 characters, unique)."""
    return uuid.uuid4().hex[:20].upper()

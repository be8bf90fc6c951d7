"""Reading ORM^O01 and OMI^O23 (HL7 v2.5.1) into an `IncomingOrder`, by position (`er7`;
tested against hl7apy's reading). Every
field read is checked; a bad one is an `HL7Problem` naming its segment and field (PID-7, OBR-4
…), so the ACK tells the sender exactly what to fix. Nothing here touches the database.

Where things are read from: the NHS number from PID-3 (the repetition whose identifier type,
CX-5, is NH or whose assigning authority, CX-4, is NHS); the name, date of birth, address and
phone from PID-5, -7, -11, -13; the order control and placer order number from ORC-1 and
ORC-2 (OBR-2 if ORC-2 is empty); the order code from OBR-4 (code^text^system); the priority
from TQ1-9, else OBR-27.6 or ORC-7.6 (HL7 table 0027, plus the local 2WW for suspected
cancer); the referrer from ORC-12 (else OBR-16) and ORC-21; the clinical question from OBR-13
(else OBR-31); a cancellation's reason from ORC-16."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from booking_api.interop.hl7.er7 import Delimiters, Er7Segment
from booking_api.interop.hl7.problems import (
    DATA_TYPE_ERROR,
    SEGMENT_SEQUENCE_ERROR,
    TABLE_VALUE_NOT_FOUND,
    UNSUPPORTED_EVENT_CODE,
    UNSUPPORTED_MESSAGE_TYPE,
    UNSUPPORTED_VERSION,
    HL7Problem,
    Location,
    bad_type,
    missing,
)
from booking_api.interop.incoming import IncomingOrder, OrderCode, OrderControl, code_system_of
from booking_api.interop.models import AckCode
from booking_api.patients.identity import PatientDetails
from domain.nhs_number import InvalidNhsNumber, normalise_nhs_number
from domain.vocabulary import Priority

LONDON = ZoneInfo("Europe/London")
ORDER_MESSAGES = frozenset({"ORM^O01", "OMI^O23"})
VERSIONS = frozenset({"2.5.1", "2.5"})
READ_SEGMENTS = frozenset({"PID", "ORC", "OBR", "TQ1"})
PRIORITY_OF = {"S": Priority.URGENT, "A": Priority.URGENT, "R": Priority.ROUTINE,
               "P": Priority.ROUTINE, "C": Priority.ROUTINE, "T": Priority.PLANNED,
               "2WW": Priority.TWO_WEEK_WAIT}


@dataclass(frozen=True)
class Header:
    """The MSH fields an answer and the duplicate check need."""

    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    control_id: str
    message_type: str
    trigger_structure: str
    version: str
    processing_id: str

    @property
    def sender(self) -> str:
        return f"{self.sending_application}^{self.sending_facility}"


def normalise_er7(text: str) -> str:
    """Segments separated by CR, as HL7 wants (files and HTTP bodies often carry LF)."""
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    return "\r".join(line for line in lines if line.strip())


def message_digest(er7: str) -> str:
    """SHA-256 of the message without MSH-7 (a resend may restamp the time it was sent)."""
    segments = er7.split("\r")
    fields = segments[0].split("|")
    if len(fields) > 6:
        fields[6] = ""
    return hashlib.sha256("\r".join(["|".join(fields), *segments[1:]]).encode()).hexdigest()


def read_header(er7: str) -> Header:
    """MSH, checked: a message without one, or of a type or version we do not take, is AR."""
    if not er7.startswith("MSH|"):
        raise HL7Problem(Location("MSH"), SEGMENT_SEQUENCE_ERROR,
                         "the message must start with an MSH segment", AckCode.REJECT)
    fields = er7.split("\r", 1)[0].split("|")
    value = _positional(fields)
    header = Header(value(3), value(4), value(5), value(6), value(10),
                    "^".join(value(9).split("^")[:2]), value(9), value(12).split("^")[0],
                    value(11))
    if not header.control_id:
        raise HL7Problem(Location("MSH", 10), "101", "the message control id is required",
                         AckCode.REJECT)
    if not header.sending_application:
        raise HL7Problem(Location("MSH", 3), "101", "the sending application is required",
                         AckCode.REJECT)
    if header.version not in VERSIONS:
        raise HL7Problem(Location("MSH", 12), UNSUPPORTED_VERSION,
                         f"version '{header.version}' is not taken; send 2.5.1",
                         AckCode.REJECT)
    if header.message_type not in ORDER_MESSAGES:
        kind, _, _ = header.message_type.partition("^")
        code = UNSUPPORTED_EVENT_CODE if kind in ("ORM", "OMI") else UNSUPPORTED_MESSAGE_TYPE
        raise HL7Problem(Location("MSH", 9), code,
                         f"message type '{header.message_type}' is not taken; send ORM^O01 "
                         "or OMI^O23", AckCode.REJECT)
    return header


def read_order(er7: str, header: Header) -> IncomingOrder:
    """The order in an ORM^O01 or OMI^O23 whose header has been read."""
    segments = _segments(er7)
    pid, orc, obr = (_one(segments, name) for name in ("PID", "ORC", "OBR"))
    control = _order_control(orc)
    placer_number = _text(orc, 2, 1) or _text(obr, 2, 1)
    if not placer_number:
        raise missing(Location("ORC", 2), "the placer order number")
    code = _order_code(obr, header) if control is not OrderControl.CANCEL else \
        (_order_code(obr, header) if _text(obr, 4, 1) else None)
    return IncomingOrder(
        control=control, placer_system=header.sending_application,
        placer_order_number=placer_number, patient=_patient(pid), code=code,
        priority=_priority(segments, orc, obr), referrer=_referrer(orc, obr),
        clinical_question=_text(obr, 13, 0) or _text(obr, 31, 2) or None,
        ordered_at=_timestamp(orc, 9, "the order time") if _text(orc, 9, 1) else None,
        reason=_text(orc, 16, 2) or _text(orc, 16, 1) or None)


def _segments(er7: str) -> dict[str, list[Er7Segment]]:
    """The segments an order is read from (the others are not read)."""
    delimiters = Delimiters.of_message(er7)
    found: dict[str, list[Er7Segment]] = {}
    for line in er7.split("\r")[1:]:
        name = line[:3]
        if name not in READ_SEGMENTS:
            continue
        try:
            segment = Er7Segment.read(line, delimiters)
        except ValueError as error:
            raise HL7Problem(Location(name), SEGMENT_SEQUENCE_ERROR,
                             f"the {name} segment cannot be read: {error}") from error
        found.setdefault(name, []).append(segment)
    return found


def _one(segments: dict[str, list[Er7Segment]], name: str) -> Er7Segment:
    if name not in segments:
        raise HL7Problem(Location(name), SEGMENT_SEQUENCE_ERROR,
                         f"the {name} segment is missing")
    return segments[name][0]


def _text(segment: Er7Segment | None, field: int, component: int) -> str:
    """One component (0: the whole field, as sent) of the first repetition, stripped."""
    return segment.text(field, component) if segment is not None else ""


def _order_control(orc: Er7Segment) -> OrderControl:
    value = _text(orc, 1, 1)
    if not value:
        raise missing(Location("ORC", 1), "the order control code")
    try:
        return OrderControl(value)
    except ValueError:
        raise HL7Problem(Location("ORC", 1), TABLE_VALUE_NOT_FOUND,
                         f"order control '{value}' is not taken; send NW, CA or XO") from None


def _patient(pid: Er7Segment) -> PatientDetails:
    family, given = _text(pid, 5, 1), _text(pid, 5, 2)
    if not family:
        raise missing(Location("PID", 5, 1), "the patient's family name")
    if not given:
        raise missing(Location("PID", 5, 2), "the patient's given name")
    born = _text(pid, 7, 1)
    if not born:
        raise missing(Location("PID", 7), "the patient's date of birth")
    return PatientDetails(
        given_name=given.title(), family_name=family.title(),
        date_of_birth=_date(born, Location("PID", 7), "the date of birth"),
        postcode=_text(pid, 11, 5).upper() or None, nhs_number=_nhs_number(pid),
        phone=_text(pid, 13, 1) or None, email=_text(pid, 13, 4) or None,
        interpreter_language=_text(pid, 15, 2) or None)


def _nhs_number(pid: Er7Segment) -> str | None:
    delimiters = pid.delimiters
    for repetition in pid.repetitions(3):
        parts = repetition.split(delimiters.component)
        parts += [""] * (5 - len(parts))
        if parts[4].upper() == "NH" or \
                parts[3].split(delimiters.subcomponent)[0].upper() == "NHS":
            try:
                return normalise_nhs_number(parts[0])
            except InvalidNhsNumber as error:
                raise HL7Problem(Location("PID", 3, 1), DATA_TYPE_ERROR, str(error)) from error
    return None


def _order_code(obr: Er7Segment, header: Header) -> OrderCode:
    code = _text(obr, 4, 1)
    if not code:
        raise missing(Location("OBR", 4, 1), "the order code (universal service identifier)")
    system = code_system_of(_text(obr, 4, 3), header.sending_application)
    return OrderCode(system, code, _text(obr, 4, 2) or None)


def _priority(segments: dict[str, list[Er7Segment]], orc: Er7Segment,
              obr: Er7Segment) -> Priority:
    tq1 = segments.get("TQ1", [None])[0]
    for segment, field, component, location in (
            (tq1, 9, 1, Location("TQ1", 9)), (obr, 27, 6, Location("OBR", 27, 6)),
            (orc, 7, 6, Location("ORC", 7, 6))):
        value = _text(segment, field, component).upper()
        if value:
            if value not in PRIORITY_OF:
                raise HL7Problem(location, TABLE_VALUE_NOT_FOUND,
                                 f"priority '{value}' is not one of "
                                 f"{', '.join(sorted(PRIORITY_OF))}")
            return PRIORITY_OF[value]
    return Priority.ROUTINE


def _referrer(orc: Er7Segment, obr: Er7Segment) -> str:
    source = orc if _text(orc, 12, 1) else obr
    field = 12 if source is orc else 16
    identifier, family, given = (_text(source, field, i) for i in (1, 2, 3))
    prefix = _text(source, field, 6)
    who = " ".join(p for p in (prefix, given.title(), family.title()) if p)
    place = _text(orc, 21, 1)
    parts = [who or "unnamed referrer"]
    if identifier:
        parts[0] += f" ({identifier})"
    if place:
        parts.append(place)
    return ", ".join(parts)[:200]


def _date(value: str, location: Location, what: str) -> date:
    digits = value[:8]
    try:
        if len(digits) != 8 or not digits.isdigit():
            raise ValueError(value)
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise bad_type(location, what, value, "a date (YYYYMMDD)") from None


def _timestamp(segment: Er7Segment, field: int, what: str) -> datetime:
    value = _text(segment, field, 1)
    location = Location(segment.name, field)
    digits, sign, zone = value, "", ""
    for mark in "+-":
        if mark in value:
            digits, zone = value.split(mark, 1)
            sign = mark
    digits = digits.split(".")[0]
    try:
        if len(digits) < 8 or not digits.isdigit():
            raise ValueError(value)
        padded = (digits + "000000")[:14]
        moment = datetime.strptime(padded, "%Y%m%d%H%M%S")
        if sign:
            offset = (int(zone[:2]) * 60 + int(zone[2:4])) * (1 if sign == "+" else -1)
            return moment.replace(tzinfo=timezone(timedelta(minutes=offset))).astimezone(UTC)
        return moment.replace(tzinfo=LONDON).astimezone(UTC)
    except ValueError:
        raise bad_type(location, what, value, "a timestamp (YYYYMMDDHHMM[SS][+ZZZZ])") from None


def _positional(fields: list[str]):
    """MSH-n by its number (MSH-1 is the field separator itself, so MSH-n is fields[n-1])."""

    def value(number: int) -> str:
        index = number - 1
        return fields[index].strip() if index < len(fields) else ""

    return value

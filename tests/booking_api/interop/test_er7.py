"""ER7 by position, checked against hl7apy: every field and component of every order
fixture reads as hl7apy reads it; values with delimiters in them survive escaping; and every
kind of ACK parses back with hl7apy at strict validation, saying what it was built to say."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message, parse_segment
from hypothesis import given
from hypothesis import strategies as st

from booking_api.interop.hl7.acks import build_ack
from booking_api.interop.hl7.er7 import Delimiters, Er7Segment
from booking_api.interop.hl7.order_messages import normalise_er7, read_header
from booking_api.interop.hl7.problems import HL7Problem, Location
from booking_api.interop.models import AckCode
from tests.booking_api.interop.conftest import FIXTURES

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ORDERS = sorted(p.name for p in (FIXTURES / "hl7").glob("o*.hl7"))
READ = ("PID", "ORC", "OBR", "TQ1")


def _hl7apy_text(segment, field: int, component: int) -> str:
    """What the order reader read through hl7apy before: the first repetition's component,
    with the subcomponent and component escapes undone."""
    repetitions = getattr(segment, f"{segment.name.lower()}_{field}")
    if not repetitions:
        return ""
    value = repetitions[0].to_er7()
    if component:
        parts = value.split("^")
        value = parts[component - 1] if len(parts) >= component else ""
    return value.replace("\\T\\", "&").replace("\\S\\", "^").strip()


@pytest.mark.parametrize("fixture", ORDERS)
def test_every_field_of_an_order_reads_as_hl7apy_reads_it(fixture: str) -> None:
    er7 = normalise_er7((FIXTURES / "hl7" / fixture).read_text())
    delimiters = Delimiters.of_message(er7)
    for line in er7.split("\r")[1:]:
        if line[:3] not in READ:
            continue
        ours = Er7Segment.read(line, delimiters)
        theirs = parse_segment(line, version="2.5.1",
                               validation_level=VALIDATION_LEVEL.TOLERANT)
        for field in range(1, len(ours.fields)):
            for component in range(0, 7):
                assert ours.text(field, component) == _hl7apy_text(theirs, field, component), \
                    (line[:3], field, component)


TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"),
               max_size=30)


@given(TEXT, TEXT)
def test_a_value_with_delimiters_in_it_reads_back_as_written(first: str, second: str) -> None:
    delimiters = Delimiters()
    line = f"OBR|1|{delimiters.escaped(first)}^{delimiters.escaped(second)}"

    segment = Er7Segment.read(line, delimiters)

    assert segment.text(2, 1) == first.strip() and segment.text(2, 2) == second.strip()


def test_a_message_declaring_other_delimiters_is_read_with_them() -> None:
    er7 = "MSH#$*@%#SENDER#FAC\rPID#1##123$$$NHS$NH#"
    delimiters = Delimiters.of_message(er7)

    pid = Er7Segment.read(er7.split("\r")[1], delimiters)

    assert (delimiters.field, delimiters.component, delimiters.repetition) == ("#", "$", "*")
    assert pid.text(3, 1) == "123" and pid.text(3, 5) == "NH"


def test_a_line_without_a_segment_name_is_refused() -> None:
    with pytest.raises(ValueError, match="segment name"):
        Er7Segment.read("pid|1", Delimiters())


HEADER = read_header("MSH|^~\\&|OCS|RQ3|CDIP|WMIN|20261201090000||ORM^O01^ORM_O01|C1|P|2.5.1")
PROBLEM = HL7Problem(Location("PID", 7), "102", "the date of birth 1980|13|45 is not a date "
                     "(YYYYMMDD) & cannot be read ^ ~ \\")


@pytest.mark.parametrize(("code", "problem", "text"), [
    (AckCode.ACCEPT, None, "request R123 received"),
    (AckCode.ERROR, PROBLEM, None),
    (AckCode.REJECT, HL7Problem(Location("MSH", 12), "203", "version '2.3' is not taken",
                                AckCode.REJECT), None),
])
def test_every_kind_of_ack_parses_with_hl7apy_at_strict_validation(
        code: AckCode, problem: HL7Problem | None, text: str | None) -> None:
    ack = build_ack(HEADER, code, "ACK1", NOW, problem, text)

    parsed = parse_message(ack, validation_level=VALIDATION_LEVEL.STRICT)

    assert parsed.msh.msh_9.to_er7() == "ACK^O01^ACK"
    assert parsed.msh.msh_10.to_er7() == "ACK1" and parsed.msh.msh_5.to_er7() == "OCS"
    assert parsed.msa.msa_1.to_er7() == code.value and parsed.msa.msa_2.to_er7() == "C1"
    if problem is not None:
        assert parsed.err.err_3.to_er7().split("^")[0] == problem.code
        written = Er7Segment.read(ack.split("\r")[2], Delimiters())
        assert written.text(8) == problem.text

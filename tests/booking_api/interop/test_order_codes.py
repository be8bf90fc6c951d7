"""The order-code map: a mapping file row naming an exam outside the catalogue is refused,
naming it; catalogue codes map to themselves as NICIP."""

from __future__ import annotations

from pathlib import Path

import pytest

from booking_api.core.db import Database
from booking_api.interop.incoming import OrderCode
from booking_api.interop.order_codes import (
    CodeMapping,
    OrderCodeFileError,
    exam_for,
    load_code_map,
    read_code_map,
)


def test_catalogue_codes_map_to_themselves_as_nicip(interop_db: Database) -> None:
    with interop_db.reading() as session:
        assert exam_for(session, OrderCode("NICIP", "CHEAD")) == "CHEAD"
        assert exam_for(session, OrderCode("SNOMED", "399208008")) == "XCHES"


def test_a_mapping_to_an_exam_outside_the_catalogue_is_refused(interop_db: Database) -> None:
    with pytest.raises(OrderCodeFileError, match="ZZZZZ"), interop_db.transaction() as session:
        load_code_map(session, [CodeMapping("ICE", "X1", "ZZZZZ")], with_catalogue=False)


@pytest.mark.parametrize(("text", "problem"), [
    ("code_system,code\nICE,X1\n", "missing column"),
    ("code_system,code,exam_code\nICE,,XCHES\n", "row 2: code is blank"),
])
def test_a_malformed_mapping_file_is_refused_naming_the_row(tmp_path: Path, text: str,
                                                            problem: str) -> None:
    path = tmp_path / "codes.csv"
    path.write_text(text)

    with pytest.raises(OrderCodeFileError, match=problem):
        read_code_map(path)


def test_a_catalogue_code_is_its_own_nicip_code_before_any_map_is_loaded(
        interop_db: Database) -> None:
    from sqlalchemy import delete

    from booking_api.interop.models import OrderCodeMap

    with interop_db.transaction() as session:
        session.execute(delete(OrderCodeMap))
    with interop_db.reading() as session:
        assert exam_for(session, OrderCode("NICIP", "XKNEE")) == "XKNEE"
        assert exam_for(session, OrderCode("NICIP", "ZZZZZ")) is None

"""An interop world: the tiny network and the exams the fixtures order, the shipped order-code
map, and a Database handle on one migrated database of each kind per module (emptied before
each test)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from booking_api.core.db import Database, transaction
from booking_api.database import open_database
from booking_api.interop.order_codes import SHIPPED_MAP, load_code_map, read_code_map
from booking_api.network.services import mirror_reference_data
from domain.exams import ExamType, exam_catalogue
from domain.network import Network
from tests.booking_api.booking_world import booking_engine, migrated_engine  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures"
INTEROP_EXAMS = ("XCHES", "XKNEE", "CHEAD", "MBRAI", "UABDO")


def hl7_fixture(name: str) -> str:
    return (FIXTURES / "hl7" / name).read_text()


@pytest.fixture
def interop_catalogue() -> dict[str, ExamType]:
    return {code: exam_catalogue()[code] for code in INTEROP_EXAMS}


@pytest.fixture
def interop_db(booking_engine: Engine, tiny_network: Network,  # noqa: F811
               interop_catalogue: dict[str, ExamType]) -> Iterator[Database]:
    with transaction(booking_engine) as session:
        mirror_reference_data(session, tiny_network, interop_catalogue)
        load_code_map(session, read_code_map(SHIPPED_MAP))
    database = open_database(booking_engine.url.render_as_string(hide_password=False))
    yield database
    database.dispose()


@pytest.fixture
def control_ids():
    counter = itertools.count(1)
    return lambda: f"ACK{next(counter):05d}"


def count_rows(db: Database, table: type) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0

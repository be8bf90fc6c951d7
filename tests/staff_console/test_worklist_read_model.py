"""The worklist's read model on SQLite and PostgreSQL: every open request exactly once, in
clinical priority then breach order, whatever the page size (keyset pagination across
priorities, ties broken by id), filters applied in the database."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from booking_api.console.worklist import (
    PRIORITY_ORDER,
    WorklistFilters,
    breach_date,
    worklist_page,
)
from booking_api.core import migrate
from booking_api.core.db import transaction
from booking_api.core.errors import InvalidInput
from booking_api.database import open_database, open_engine
from booking_api.network.services import mirror_reference_data
from booking_api.patients.models import Patient
from booking_api.requests.flows import VettingProtocol, justify_request
from booking_api.requests.models import Request
from booking_api.requests.services import transition_request
from domain.exams import exam_catalogue
from domain.lifecycle import RequestState
from domain.network import load_reference_network
from domain.vocabulary import Modality, Priority
from tests.request_support import (
    CLERK,
    INTAKE,
    VETTER,
    appointable_request,
    received_request,
)

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
STATES = (RequestState.APPOINTABLE, RequestState.WAITING, RequestState.APPOINTED,
          RequestState.RECEIVED, RequestState.CANCELLED)


@pytest.fixture
def filled(database_url: str) -> list[dict]:
    """Sixty requests of every priority and open or closed state; a few received at the
    same moment. Vetted ones are placed by the rules, so the stored state is theirs."""
    migrate.upgrade(database_url)
    engine = open_engine(database_url)
    rng = random.Random(5)
    rows = []
    with transaction(engine) as session:
        mirror_reference_data(session, load_reference_network(), exam_catalogue())
        for n in range(60):
            patient = Patient(given_name="W", family_name=f"L{n}", date_of_birth=date(1970, 1, 1),
                              postcode_district="B1", area_id="B1",
                              phone=None if n % 4 == 0 else "+447700900123")
            session.add(patient)
            session.flush()
            priority = rng.choice(list(Priority))
            received = NOW - timedelta(days=rng.choice((3, 10, 10, 30, 50)))
            request = _request(
                session, STATES[n % len(STATES)], patient.id,
                rng.choice(("XCHES", "MBRAI", "UABDO")), received_at=received,
                priority=priority, booking_reference=f"REF{n:05d}",
                due_date=date(2027, 1, rng.randrange(1, 28))
                if priority is Priority.PLANNED and n % 5 else None,
                site_id="UHB-QE" if n % 3 == 0 else None)
            rows.append({"id": request.id, "priority": priority, "received": received,
                         "due": request.due_date, "state": request.state,
                         "exam": request.exam_code, "phone": patient.phone,
                         "site": request.site_id})
    engine.dispose()
    return rows


def _request(session, state: RequestState, patient_id: int, exam_code: str,
             **fields) -> Request:
    """A request taken towards `state` the way the service takes it: received; vetted and
    placed by the rules (appointable or waiting, as its facts say); appointable then booked
    (the worklist needs no slot for it); or withdrawn by the referrer."""
    if state is RequestState.APPOINTED:
        fields["due_date"] = (NOW.date() + timedelta(days=14)  # inside its booking window
                              if fields["priority"] is Priority.PLANNED else None)
        request = appointable_request(session, patient_id, exam_code, today=NOW.date(),
                                      **fields)
        transition_request(session, request, state, CLERK, "booked")
        return request
    request = received_request(session, patient_id, exam_code, **fields)
    assert request.id is not None
    if state is RequestState.CANCELLED:
        transition_request(session, request, state, INTAKE, "withdrawn by the referrer")
    elif state is not RequestState.RECEIVED:
        justify_request(session, request.id, VettingProtocol(
            exam_code, "standard", False, False, request.priority), VETTER, NOW.date())
    return request


def _expected(rows: list[dict], keep) -> list[int]:
    def key(row: dict) -> tuple:
        rank = PRIORITY_ORDER.index(row["priority"])
        if row["priority"] is Priority.PLANNED:
            return (rank, row["due"] or date(9999, 12, 31), datetime.min, row["id"])
        return (rank, date.min, row["received"], row["id"])
    return [r["id"] for r in sorted((r for r in rows if keep(r)), key=key)]


def _walk(url: str, filters: WorklistFilters, size: int) -> list[int]:
    db = open_database(url)
    seen, cursor = [], None
    try:
        while True:
            page = worklist_page(db, filters, cursor, now=NOW, page_size=size)
            seen += [row.request_id for row in page.rows]
            if page.next_cursor is None:
                return seen
            cursor = page.next_cursor
    finally:
        db.dispose()


@pytest.mark.parametrize("size", [1, 3, 7, 100])
def test_every_open_request_once_in_priority_then_breach_order(
        database_url: str, filled: list[dict], size: int) -> None:
    expected = _expected(filled, lambda r: r["state"] in (RequestState.APPOINTABLE,
                                                          RequestState.WAITING))
    assert _walk(database_url, WorklistFilters(), size) == expected


def test_filters_are_applied_in_the_database(database_url: str, filled: list[dict]) -> None:
    open_ = (RequestState.APPOINTABLE, RequestState.WAITING)
    mri = WorklistFilters(modality=Modality.MR)
    assert _walk(database_url, mri, 4) == _expected(
        filled, lambda r: r["state"] in open_ and r["exam"] == "MBRAI")
    calls = WorklistFilters(needs_call=True, states=(RequestState.WAITING,))
    assert _walk(database_url, calls, 4) == _expected(
        filled, lambda r: r["state"] is RequestState.WAITING and r["phone"] is None)
    old = WorklistFilters(min_weeks_waited=4, site_id="UHB-QE")
    assert _walk(database_url, old, 2) == _expected(
        filled, lambda r: r["state"] in open_ and r["site"] == "UHB-QE"
        and NOW - r["received"] >= timedelta(weeks=4))


def test_breach_dates_follow_priority_and_due_date() -> None:
    received = date(2026, 12, 1)
    assert breach_date(Priority.TWO_WEEK_WAIT, received, None) == date(2026, 12, 15)
    assert breach_date(Priority.ROUTINE, received, None) == date(2027, 1, 12)
    assert breach_date(Priority.PLANNED, received, date(2027, 3, 1)) == date(2027, 3, 1)


@pytest.mark.parametrize("bad", [
    {"min_weeks_waited": -1}, {"min_weeks_waited": 500}, {"states": ()},
    {"states": (RequestState.ATTENDED,)}])
def test_bad_filters_are_refused_naming_the_field(bad: dict) -> None:
    with pytest.raises(InvalidInput):
        WorklistFilters(**bad)

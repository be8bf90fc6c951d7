"""Property-based tests of the HTTP surface, on SQLite and PostgreSQL, never a 5xx:

* schemathesis over the booking API's OpenAPI schema: whatever a schema-valid (or nearly
  valid) request carries, signed in as an administrator or as a patient;
* hostile input (hypothesis, over `cdip bench fuzz`'s world and requests) on every route,
  the FHIR, HL7 and webhook ones included, and every form of the portal: lone surrogates,
  NUL and control characters, NaN and the infinities, integers past 64 bits, dates at the
  calendar's edges, ids of the wrong type, one to three fields at a time.

Bounded: a few examples per operation and caller, per form."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from booking_api.access.models import AccountRole
from booking_api.core.db import transaction
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from cdip_bench.fuzz import FuzzTarget, fuzz_target
from cdip_bench.fuzz_api import Operation, Target
from cdip_bench.fuzz_inputs import HOSTILE, TEXT_ONLY
from cdip_bench.fuzz_portal import PortalForm
from tests.booking_api.access_support import MovableClock, add_staff, make_app, staff_headers
from tests.booking_api.booking_world import (
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]
BOOKING_PATHS = re.compile(r"^/api/(appointments|slots|holds|staff/bookings|requests/\{[a-z_]+\}"
                           r"/slots)")
EXAMPLES_PER_OPERATION = 6


def _patient_headers(client: TestClient, engine: Engine, request_id: int) -> dict[str, str]:
    with transaction(engine) as session:
        request = session.get(Request, request_id)
        born = session.get(Patient, request.patient_id).date_of_birth
        reference = request.booking_reference
    token = client.post("/api/auth/patient/sign-in", json={
        "booking_reference": reference, "date_of_birth": born.isoformat()}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_no_booking_operation_answers_a_server_error(
        booking_engine: Engine, tiny_network, tiny_catalogue) -> None:
    world = build_world(booking_engine, tiny_network, tiny_catalogue, patients=2)
    app = make_app(booking_engine.url.render_as_string(hide_password=False), MovableClock())
    add_staff(booking_engine, "ada.admin", AccountRole.ADMIN)
    with TestClient(app) as client:
        callers = {"admin": staff_headers(client, "ada.admin"),
                   "patient": _patient_headers(client, booking_engine, world.requests[0])}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if BOOKING_PATHS.match(op.path)]
    assert len(mine) >= 14

    for operation in mine:
        for caller, headers in callers.items():
            _never_a_server_error(operation, caller, headers)


def _never_a_server_error(operation, caller: str, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call(headers={**(case.headers or {}), **headers})
        assert response.status_code < 500, (
            f"{operation.method.upper()} {operation.path} as {caller}: "
            f"{response.status_code} {response.text[:300]}")

    check()


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --- hostile input on every route and every portal form ----------------------------------------

HOSTILE_EXAMPLES = 5


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fuzzed(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """The fuzz world (`cdip bench fuzz`'s) in a fresh database of each kind, its app running,
    callers signed in, the portal's forms found."""
    if request.param == "sqlite":
        with fuzz_target(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'f.db'}") as target:
            yield target
        return
    base = request.getfixturevalue("postgres_database_url")
    schema = f"f_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        with fuzz_target(make_url(base).update_query_dict(
                {"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False)) as target:
            yield target
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def hostile_text() -> st.SearchStrategy[str]:
    """Text mixing letters with lone surrogates, NUL and other control characters."""
    return st.one_of(
        st.sampled_from([h.value for h in TEXT_ONLY]),
        st.text(st.characters(codec=None, categories=("Cs", "Cc", "Lu", "Nd", "Zs")),
                max_size=30),
        st.dates().map(date.isoformat),
        st.integers(min_value=-(2**70), max_value=2**70).map(str))


def hostile_values() -> st.SearchStrategy[object]:
    """Any JSON value a hostile client might send where one field belongs."""
    return st.one_of(
        st.sampled_from([h.value for h in HOSTILE]), hostile_text(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(2**70), max_value=2**70), st.booleans(), st.none(),
        st.lists(st.integers(), max_size=2))


def test_no_route_answers_a_server_error_to_hostile_input(fuzzed: FuzzTarget) -> None:
    assert len(fuzzed.operations) >= 50
    for operation in fuzzed.operations:
        for caller in operation.callers:
            if operation.targets:
                _hostile_never_a_server_error(fuzzed, operation, caller)


def test_no_portal_form_answers_a_server_error_to_hostile_input(fuzzed: FuzzTarget) -> None:
    actions = {form.action for form in fuzzed.forms}
    assert {"/sign-in", "/compare", "/site", "/date", "/time", "/check", "/cancel",
            "/short-notice"} <= actions
    for form in fuzzed.forms:
        names = [name for name, _value in form.fields]

        @given(name=st.sampled_from([*names, None]), value=hostile_text())
        @settings(max_examples=HOSTILE_EXAMPLES * 2, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(name: str | None, value: str, form: PortalForm = form) -> None:
            status = fuzzed.post_form(form, name, value)
            assert status < 500, f"{form.name} as {form.patient}: {name} = {value!r}"

        check()


def _hostile_never_a_server_error(fuzzed: FuzzTarget, operation: Operation,
                                  caller: str) -> None:
    headers = fuzzed.headers[caller]

    @given(spots=st.lists(st.sampled_from(operation.targets), min_size=1, max_size=3,
                          unique=True),
           values=st.lists(hostile_values(), min_size=3, max_size=3))
    @settings(max_examples=HOSTILE_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(spots: list[Target], values: list[object]) -> None:
        changes = dict(zip(spots, values, strict=False))
        status = fuzzed.send(operation.call(headers, changes))
        assert status < 500, (f"{operation.name} as {caller}: "
                              + ", ".join(f"{s} = {v!r}" for s, v in changes.items()))

    check()

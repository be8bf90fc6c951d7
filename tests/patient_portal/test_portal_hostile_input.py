"""The portal's forms against input that once gave server errors, on SQLite and PostgreSQL:
a date of birth with a 20-digit day, NUL and other control characters in any field. Each is
a 4xx page naming the field; nothing changes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from booking_api.core.config import Settings
from cdip_web.app import create_app
from tests.patient_portal.page_client import PageClient
from tests.patient_portal.portal_world import (
    PortalWorld,
    appointment_states,
    build_portal_world,
)


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def portal_world(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalWorld]:
    """Overrides the SQLite-only world of conftest: one of each kind for this module."""
    if request.param == "sqlite":
        yield build_portal_world(f"sqlite:///{tmp_path_factory.mktemp('portal') / 'p.db'}")
        return
    base = request.getfixturevalue("postgres_database_url")
    schema = f"p_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield build_portal_world(make_url(base).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pages(portal_world: PortalWorld) -> Iterator[PageClient]:
    app = create_app(Settings(database_url=portal_world.url, environment="test"))
    with TestClient(app, base_url="http://127.0.0.1", follow_redirects=True,
                    raise_server_exceptions=False) as client:
        yield PageClient(client)


def _sign_in_form(reference: str, day: str, month: str, year: str) -> dict[str, str]:
    return {"booking-reference": reference, "date-of-birth-day": day,
            "date-of-birth-month": month, "date-of-birth-year": year}


@pytest.mark.parametrize(("day", "month", "year"), [
    ("9" * 20, "5", "1960"), ("17", "9" * 20, "1960"), ("17", "5", "1" * 20),
    ("٣", "5", "1960"), ("²", "5", "1960"), ("17", "5", "0000"),
], ids=["day-20-digits", "month-20-digits", "year-20-digits", "arabic-digit",
        "superscript", "year-zero"])
def test_an_impossible_date_of_birth_is_named_not_a_server_error(
        pages: PageClient, portal_world: PortalWorld, day: str, month: str,
        year: str) -> None:
    pages.get("/sign-in")

    page = pages.post("/sign-in", _sign_in_form(
        portal_world.patients[0].booking_reference, day, month, year))

    assert page.status_code == 422
    assert "Date of birth must be a real date" in page.text
    assert 'href="#date-of-birth-day"' in page.text


@pytest.mark.parametrize(("field", "value"), [
    ("booking-reference", "AB\x00CD"), ("booking-reference", "AB\x07CD"),
    ("date-of-birth-day", "1\x00"),
], ids=["reference-nul", "reference-bell", "day-nul"])
def test_control_characters_in_a_form_are_named_not_a_server_error(
        pages: PageClient, portal_world: PortalWorld, field: str, value: str) -> None:
    pages.get("/sign-in")
    form = _sign_in_form(portal_world.patients[0].booking_reference, "17", "5", "1960")

    page = pages.post("/sign-in", {**form, field: value})

    assert page.status_code == 400
    assert field.replace("-", " ").capitalize() in page.text
    assert "Nothing has been changed" in page.text


def test_a_nul_in_a_cancellation_reason_is_named_and_cancels_nothing(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = portal_world.patients[1]
    pages.sign_in(login)
    pages.hold_first_time()
    pages.post("/check", {})
    assert appointment_states(portal_world, login) == ["booked"]
    pages.get("/cancel")

    page = pages.post("/cancel", {"reason": "other", "reason-details": "ill\x00ness"})

    assert page.status_code == 400
    assert "Reason details" in page.text
    assert appointment_states(portal_world, login) == ["booked"]


def test_a_multipart_form_with_bytes_that_are_not_utf8_is_refused(
        pages: PageClient, portal_world: PortalWorld) -> None:
    pages.get("/sign-in")
    hidden = pages.hidden_fields()
    boundary = "cdipboundary"
    parts = [*hidden.items(), ("booking-reference", "\udce9\udca0\udc80"),
             ("date-of-birth-day", "17"), ("date-of-birth-month", "5"),
             ("date-of-birth-year", "1960")]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode("utf-8", "surrogateescape") + b"\r\n" for name, value in parts
    ) + f"--{boundary}--\r\n".encode()

    page = pages.client.post("/sign-in", content=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})

    assert 400 <= page.status_code < 500


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01", "2026-02-30", "%00", "%ED%A0%80"])
def test_a_start_date_beyond_the_calendar_shows_the_first_dates(
        pages: PageClient, portal_world: PortalWorld, start: str) -> None:
    pages.sign_in(portal_world.patients[2])
    pages.get("/compare")
    pages.post("/compare", {"compare": "soonest"})
    pages.post("/site", {"site": pages.radio_values("site")[0]})
    first_dates = pages.radio_values("date")

    page = pages.get(f"/date?from={start}")

    assert page.status_code == 200
    assert pages.radio_values("date") == first_dates

"""The portal's pages over HTTP (no browser): sign-in errors in NHS.UK words, the security
measures (CSRF, cookie flags, CSP, idempotent forms, nothing personal in URLs), holds, and
the calendar file across a change of appointment."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select, update

from booking_api.appointments import services
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.config import Environment, Settings
from booking_api.core.db import transaction
from booking_api.patients.models import Patient
from booking_api.requests.booking_reference import new_booking_reference
from booking_api.requests.models import Request
from booking_api.slots.models import Slot
from cdip_web.app import create_app
from domain.lifecycle import RequestState, SlotStatus
from pages_common.security import secure_cookies
from patient_portal import app as portal_app
from patient_portal.security import COOKIE_NAME
from slot_rules.slot_request import LONDON
from tests.patient_portal.page_client import PageClient
from tests.patient_portal.portal_world import (
    PortalWorld,
    add_patient,
    appointment_states,
    portal_engine,
)
from tests.request_support import appointable_request


@pytest.fixture
def pages(client: TestClient) -> PageClient:
    return PageClient(client)


def _sign_in_form(reference: str, day: str, month: str, year: str) -> dict[str, str]:
    return {"booking-reference": reference, "date-of-birth-day": day,
            "date-of-birth-month": month, "date-of-birth-year": year}


@pytest.mark.parametrize(("fields", "field", "message"), [
    (("", "17", "5", "1960"), "booking-reference", "Enter your booking reference"),
    (("REF", "", "", ""), "date-of-birth-day", "Enter your date of birth"),
    (("REF", "17", "", "1960"), "date-of-birth-month", "Date of birth must include a month"),
    (("REF", "17", "5", ""), "date-of-birth-year", "Date of birth must include a year"),
    (("REF", "31", "2", "1960"), "date-of-birth-day", "Date of birth must be a real date"),
    (("REF", "1", "1", "2999"), "date-of-birth-day", "Date of birth must be in the past"),
    (("REF", "aa", "5", "1960"), "date-of-birth-day", "Date of birth must be a real date"),
    (("ABC", "17", "5", "1960"), "booking-reference", "Booking reference must be 10"),
], ids=["no-reference", "no-date", "no-month", "no-year", "not-real", "future", "letters",
        "short-reference"])
def test_sign_in_errors_name_the_field_and_link_to_it(
        pages: PageClient, portal_world: PortalWorld, fields: tuple[str, ...], field: str,
        message: str) -> None:
    reference = portal_world.patients[0].booking_reference if fields[0] == "REF" else fields[0]
    pages.get("/sign-in")
    page = pages.post("/sign-in", _sign_in_form(reference, *fields[1:]))
    assert pages.title().startswith("Error: ")
    assert message in page.text
    assert f'href="#{field}"' in page.text
    assert f'id="{field}"' in page.text


def test_a_wrong_date_of_birth_and_an_unknown_reference_get_the_same_message(
        pages: PageClient, portal_world: PortalWorld) -> None:
    known = portal_world.patients[1].booking_reference
    pages.get("/sign-in")
    wrong_date = pages.post("/sign-in", _sign_in_form(known, "18", "5", "1960")).text
    unknown = pages.post("/sign-in", _sign_in_form("2345-7934-A2", "17", "5", "1960")).text
    plain = "We could not find a booking with that reference and date of birth"
    assert plain in wrong_date
    assert plain in unknown or "Booking reference is not valid" in unknown


def test_sign_in_is_rate_limited_per_reference(pages: PageClient,
                                               portal_world: PortalWorld) -> None:
    login = portal_world.patients[2]
    pages.get("/sign-in")
    for _ in range(5):
        pages.post("/sign-in", _sign_in_form(login.booking_reference, "1", "1", "1950"))
    right = pages.post("/sign-in", _sign_in_form(login.booking_reference, "17", "5", "1960"))
    assert "Too many failed sign-in attempts" in right.text
    assert right.url.path == "/sign-in"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = portal_world.patients[3]
    pages.sign_in(login)
    pages.get("/compare")
    pages.post("/compare", {"compare": "soonest"})
    pages.post("/site", {"site": pages.radio_values("site")[0]})
    pages.post("/date", {"date": pages.radio_values("date")[0]})
    slot = pages.radio_values("time")[0]
    refused = pages.post("/time", {"time": slot, "form_key": "a" * 32}, hidden=False)
    assert refused.status_code == 400
    assert "Nothing has been changed" in refused.text
    assert appointment_states(portal_world, login) == []


def test_a_double_submitted_form_holds_and_books_once(pages: PageClient,
                                                     portal_world: PortalWorld) -> None:
    login = portal_world.patients[4]
    pages.sign_in(login)
    pages.get("/compare")
    pages.post("/compare", {"compare": "nearest"})
    pages.post("/site", {"site": pages.radio_values("site")[0]})
    pages.post("/date", {"date": pages.radio_values("date")[0]})
    time_form = {**pages.hidden_fields(), "time": pages.radio_values("time")[0]}
    first = pages.client.post("/time", data=time_form)
    again = pages.client.post("/time", data=time_form)
    assert first.url.path == again.url.path == "/check"
    assert appointment_states(portal_world, login) == ["held"]
    confirm_form = dict(re.findall(r'action="/check" novalidate>\s*<input type="hidden" '
                                   r'name="(csrf_token)" value="([^"]+)">\s*<input '
                                   r'type="hidden" name="(form_key)" value="([^"]+)"',
                                   first.text)[0][i:i + 2] for i in (0, 2))
    assert pages.client.post("/check", data=confirm_form).url.path == "/confirmation"
    assert pages.client.post("/check", data=confirm_form).url.path == "/confirmation"
    assert appointment_states(portal_world, login) == ["booked"]


def test_no_booking_reference_or_date_of_birth_ever_appears_in_a_url(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = portal_world.patients[5]
    pages.sign_in(login)
    pages.hold_first_time()
    pages.post("/check", {})
    pages.get("/appointment")
    compact = login.booking_reference.replace("-", "")
    personal = (login.booking_reference, compact, "1960", "date-of-birth")
    assert [u for u in pages.urls if any(p in u for p in personal)] == []


def test_portal_pages_send_a_csp_with_a_fresh_script_nonce(client: TestClient) -> None:
    first, second = client.get("/"), client.get("/")
    policy = first.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce and f'nonce="{nonce.group(1)}"' in first.text
    assert nonce.group(1) not in second.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "https://assets.nhs.uk" in policy
    assert "frame-ancestors 'none'" in policy
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["cache-control"] == "no-store"


def test_the_json_api_gets_neither_the_portal_cookie_nor_its_headers(
        client: TestClient) -> None:
    answer = client.get("/health")
    assert "content-security-policy" not in answer.headers
    assert COOKIE_NAME not in answer.headers.get("set-cookie", "")


def test_the_session_cookie_is_http_only_and_same_site_lax(client: TestClient) -> None:
    cookie = client.get("/sign-in").headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # a test service on plain http


@pytest.mark.parametrize(("environment", "base_url", "secure"), [
    (Environment.DEMO, "http://127.0.0.1:8000", False),
    (Environment.TEST, "http://127.0.0.1:8000", False),
    (Environment.DEMO, "https://portal.example.nhs.uk", True),
    (Environment.PRODUCTION, "http://10.0.0.1", True),
    (Environment.PRODUCTION, "https://portal.example.nhs.uk", True),
])
def test_cookies_are_secure_everywhere_but_a_plain_http_demo_or_test(
        environment: Environment, base_url: str, secure: bool) -> None:
    settings = Settings(environment=environment, public_base_url=base_url,
                        secret_key="x" * 40)
    assert secure_cookies(settings) is secure


@pytest.mark.parametrize("path", ["/your-test", "/compare", "/site", "/date", "/time",
                                  "/check", "/confirmation", "/appointment", "/cancel",
                                  "/short-notice", "/appointment.ics"])
def test_pages_behind_sign_in_send_a_stranger_to_the_start(client: TestClient,
                                                           path: str) -> None:
    answer = client.get(path)
    assert answer.url.path == "/"
    assert "Sign in with your booking reference and date of birth" in answer.text


def test_the_calendar_event_keeps_its_uid_and_counts_changes(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = portal_world.patients[6]
    pages.sign_in(login)
    pages.hold_first_time()
    pages.post("/check", {})
    before = Calendar.from_ical(pages.get("/appointment.ics").content)
    pages.get("/change")
    pages.hold_first_time(compare="nearest")
    assert pages.last is not None and "stays booked until you confirm" in pages.last.text
    pages.post("/check", {})
    after = Calendar.from_ical(pages.get("/appointment.ics").content)
    (old,), (new,) = before.walk("VEVENT"), after.walk("VEVENT")
    assert old["UID"] == new["UID"] == f"booking-{login.request_id}@127.0.0.1"
    assert (old["SEQUENCE"], new["SEQUENCE"]) == (0, 1)
    assert (new.decoded("DTSTART"), str(new["LOCATION"])) != (old.decoded("DTSTART"),
                                                              str(old["LOCATION"]))
    assert str(new.decoded("DTSTART").tzinfo) == "Europe/London"
    assert after.walk("VTIMEZONE")


@pytest.mark.parametrize(("state", "says"), [
    (RequestState.RECEIVED, "still checking your referral"),
    (RequestState.ATTENDED, "already taken place"),
])
def test_a_request_that_cannot_be_booked_online_says_why(
        pages: PageClient, portal_world: PortalWorld, state: RequestState, says: str) -> None:
    login = add_patient(portal_world, 100 + list(RequestState).index(state), state)
    page = pages.sign_in(login)
    assert "You cannot book this test online" in page.text
    assert says in page.text
    assert pages.get("/site").status_code == 200 and says in pages.last.text


def test_production_refuses_to_start_without_the_nhs_frontend(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(portal_app, "NHSUK_DIST", tmp_path / "missing")
    settings = Settings(environment=Environment.PRODUCTION, secret_key="s" * 48,
                        database_url=f"sqlite:///{tmp_path / 'p.sqlite3'}")
    with pytest.raises(portal_app.FrontendMissing, match="npm ci"):
        create_app(settings)


def test_a_test_service_without_the_nhs_frontend_still_serves_pages(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, portal_world: PortalWorld) -> None:
    monkeypatch.setattr(portal_app, "NHSUK_DIST", tmp_path / "missing")
    app = create_app(Settings(environment=Environment.TEST, database_url=portal_world.url))
    with TestClient(app) as unstyled:
        assert unstyled.get("/").status_code == 200
        assert unstyled.get("/static/nhsuk/nhsuk-frontend.min.css").status_code == 404


@pytest.mark.parametrize(("contact", "says"), [
    ({"phone": "+447700900444", "email": "sam@example.com"},
     "We are sending you a confirmation by text message to 07700 900444 and email to "
     "sam@example.com, with the appointment for your calendar."),
    ({"phone": None, "email": None}, "We are sending you a confirmation by letter."),
])
def test_the_confirmation_says_how_the_patient_will_hear(
        pages: PageClient, portal_world: PortalWorld, contact: dict[str, object],
        says: str) -> None:
    login = add_patient(portal_world, 50 + len(contact["email"] or ""))
    _set_contact(portal_world, login.request_id, contact)
    pages.sign_in(login)
    pages.hold_first_time()

    page = pages.post("/check", {})

    assert says in " ".join(page.text.split())


def _set_contact(world: PortalWorld, request_id: int, contact: dict[str, object]) -> None:
    engine = portal_engine(world)
    try:
        with engine.begin() as connection:
            patient_id = connection.execute(select(Request.patient_id).where(
                Request.id == request_id)).scalar_one()
            connection.execute(update(Patient).where(Patient.id == patient_id)
                               .values(**contact))
    finally:
        engine.dispose()


def _book_another_request_elsewhere(world: PortalWorld, login) -> Slot:
    """The same patient's second request, booked by a clerk into a free slot that another
    site also has free at the same start; returns that other site's slot."""
    engine = portal_engine(world)
    try:
        with transaction(engine) as session:
            free = list(session.scalars(select(Slot).where(Slot.status == SlotStatus.FREE)
                                        .order_by(Slot.start_at.desc(), Slot.id)))
            here, there = next((a, b) for a in free for b in free
                               if a.start_at == b.start_at and a.site_id != b.site_id)
            first = session.get(Request, login.request_id)
            second = appointable_request(
                session, first.patient_id, "XKNEE", received_at=first.received_at,
                booking_reference=new_booking_reference(random.Random(4242)))
            services.book_slot(session, Actor("clerk:test", Channel.CLERK, "clerk"),
                               second.id, here.id, now=datetime.now(UTC))
            return there
    finally:
        engine.dispose()


def test_a_time_that_clashes_with_the_patients_other_appointment_says_so(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_patient(portal_world, 60)
    there = _book_another_request_elsewhere(portal_world, login)
    pages.sign_in(login)
    pages.get("/compare")
    pages.post("/compare", {"compare": "site"})
    pages.post("/site", {"site": there.site_id})
    pages.get("/date")
    pages.post("/date", {"date": there.start_at.astimezone(LONDON).date().isoformat()})

    answer = pages.post("/time", {"time": str(there.id)})

    assert answer.url.path == "/time"
    assert "You already have an appointment at" in answer.text
    assert "Choose a time that does not overlap it" in answer.text
    assert appointment_states(portal_world, login) == []
def test_signing_out_ends_the_session_on_the_server_too(
        client: TestClient, pages: PageClient, portal_world: PortalWorld) -> None:
    from itsdangerous import URLSafeTimedSerializer

    from booking_api.access.flows import patient_of_token
    from booking_api.core.app_state import database_of, settings_of

    login = add_patient(portal_world, 300)
    pages.sign_in(login)
    old_cookie = client.cookies[COOKIE_NAME]
    settings = settings_of(client.app)
    token = URLSafeTimedSerializer(settings.secret_key, salt="cdip.portal.session").loads(
        old_cookie)["token"]

    pages.post("/sign-out", {})
    replay = TestClient(client.app, base_url="http://127.0.0.1", follow_redirects=True,
                        cookies={COOKIE_NAME: old_cookie})  # someone kept the old cookie
    replayed = replay.get("/your-test")

    assert replayed.url.path == "/"
    assert "you were signed out" in replayed.text
    assert patient_of_token(database_of(client.app), settings.secret_key, token,
                            datetime.now(UTC)) is None

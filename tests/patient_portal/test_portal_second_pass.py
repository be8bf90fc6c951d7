"""The portal's second pass (issue 17, bugs found by trying it): more time on each press,
a held time while changing, a calendar file that cancels, sign-out by POST everywhere,
NHS-styled error pages, true words about messages, and the calendar event's details."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from booking_api.appointments.models import Appointment
from booking_api.core.db import transaction
from tests.patient_portal.page_client import PageClient
from tests.patient_portal.portal_world import (
    PortalWorld,
    add_patient,
    appointment_states,
    portal_engine,
)

HOLD_MINUTES = 10


@pytest.fixture
def pages(client) -> PageClient:
    return PageClient(client)


def _held_until(world: PortalWorld, request_id: int) -> datetime:
    engine = portal_engine(world)
    try:
        with transaction(engine) as session:
            return session.scalars(select(Appointment.held_until).where(
                Appointment.request_id == request_id, Appointment.state == "held")).one()
    finally:
        engine.dispose()


def _press_more_time(pages: PageClient) -> str:
    assert pages.last is not None
    form = re.search(r'action="/hold/extend" novalidate>(.*?)</form>', pages.last.text, re.S)
    assert form, "the check page offers more time"
    fields = dict(re.findall(r'name="(csrf_token|form_key)" value="([^"]+)"', form.group(1)))
    pages.last = pages.client.post("/hold/extend", data=fields)
    return pages.last.text


def test_more_time_pressed_at_once_adds_the_full_hold_length(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_patient(portal_world, 1701)
    pages.sign_in(login)
    pages.hold_first_time()
    before = _held_until(portal_world, login.request_id)

    page = _press_more_time(pages)

    assert _held_until(portal_world, login.request_id) == before + timedelta(
        minutes=HOLD_MINUTES)
    assert "We have added 10 minutes" in page


def test_more_time_can_be_asked_for_ten_times_then_the_page_says_why_not(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_patient(portal_world, 1702)
    pages.sign_in(login)
    pages.hold_first_time()
    before = _held_until(portal_world, login.request_id)

    for _ in range(10):
        page = _press_more_time(pages)

    assert _held_until(portal_world, login.request_id) == before + timedelta(
        minutes=10 * HOLD_MINUTES)
    assert "I need more time" not in page
    assert "You have already had extra time 10 times" in page


def test_the_accessibility_statement_says_why_extra_time_has_a_limit(
        pages: PageClient) -> None:
    page = " ".join(pages.get("/accessibility").text.split())
    assert "up to 10 times" in page
    assert "nobody else can book it" in page


def _book_first_time(pages: PageClient, world: PortalWorld, number: int):
    login = add_patient(world, number)
    pages.sign_in(login)
    pages.hold_first_time()
    pages.post("/check", {})
    return login


def test_changing_an_appointment_holds_the_new_time_beside_the_booking(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = _book_first_time(pages, portal_world, 1721)
    pages.get("/change")

    page = pages.hold_first_time(compare="nearest")

    assert appointment_states(portal_world, login) == ["booked", "held"]
    assert "We are holding this time for you until" in page.text
    assert "stays booked until you confirm this change" in page.text


def test_confirming_a_change_books_the_held_time_and_releases_the_old(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = _book_first_time(pages, portal_world, 1722)
    pages.get("/change")
    pages.hold_first_time(compare="nearest")

    done = pages.post("/check", {})

    assert done.url.path == "/confirmation"
    assert appointment_states(portal_world, login) == ["cancelled", "booked"]


def _cancel(pages: PageClient) -> None:
    pages.get("/cancel")
    reason = re.search(r'name="reason" type="radio" value="([^"]+)"', pages.last.text)
    assert reason
    pages.post("/cancel", {"reason": reason.group(1)})


def test_after_cancelling_a_calendar_file_cancels_the_same_event(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = _book_first_time(pages, portal_world, 1741)
    booked = Calendar.from_ical(pages.get("/appointment.ics").content)
    _cancel(pages)
    assert pages.last is not None and "/cancelled-appointment.ics" in pages.last.text

    answer = pages.get("/cancelled-appointment.ics")

    cancelling = Calendar.from_ical(answer.content)
    (old,), (event,) = booked.walk("VEVENT"), cancelling.walk("VEVENT")
    assert str(cancelling["METHOD"]) == "CANCEL"
    assert event["UID"] == old["UID"] == f"booking-{login.request_id}@127.0.0.1"
    assert event["SEQUENCE"] > old["SEQUENCE"]
    assert str(event["STATUS"]) == "CANCELLED"
    assert "method=CANCEL" in answer.headers["content-type"]


def test_the_cancelled_page_links_the_short_notice_list(
        pages: PageClient, portal_world: PortalWorld) -> None:
    _book_first_time(pages, portal_world, 1742)
    _cancel(pages)
    assert pages.last is not None and 'href="/short-notice"' in pages.last.text


def test_there_is_no_cancelling_file_while_the_booking_stands(
        pages: PageClient, portal_world: PortalWorld) -> None:
    _book_first_time(pages, portal_world, 1743)
    answer = pages.get("/cancelled-appointment.ics")
    assert answer.url.path == "/appointment"


SIGN_OUT_FORM = re.compile(r'<form[^>]*method="post" action="/sign-out"[^>]*>\s*'
                           r'<input type="hidden" name="csrf_token"')


SIGNED_IN_PAGES = ["/your-test", "/compare", "/site", "/date", "/time", "/check",
                   "/confirmation", "/appointment", "/cancel", "/short-notice", "/accessibility"]


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_every_signed_in_page_has_a_sign_out_form_that_posts(
        pages: PageClient, portal_world: PortalWorld, path: str) -> None:
    login = add_patient(portal_world, 1750 + SIGNED_IN_PAGES.index(path))
    pages.sign_in(login)
    pages.hold_first_time()
    if path in ("/confirmation", "/appointment", "/cancel"):
        pages.post("/check", {})
    page = pages.get(path)
    assert SIGN_OUT_FORM.search(page.text), f"no sign-out form on {page.url.path}"
    assert 'href="/sign-out"' not in page.text


def test_a_page_for_someone_not_signed_in_has_no_sign_out(pages: PageClient) -> None:
    assert "/sign-out" not in pages.get("/").text


def test_following_a_sign_out_link_does_not_sign_out_but_offers_the_button(
        pages: PageClient, portal_world: PortalWorld) -> None:
    pages.sign_in(add_patient(portal_world, 1770))
    page = pages.get("/sign-out")
    assert SIGN_OUT_FORM.search(page.text)
    assert pages.get("/your-test").url.path == "/your-test"

    pages.post("/sign-out", {})

    assert pages.get("/your-test").url.path == "/"


BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/no-such-page", "/staff/no-such-page"])
def test_a_browser_asking_for_an_unknown_page_gets_an_nhs_page_not_found(
        client, path: str) -> None:
    answer = client.get(path, headers=BROWSER)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in answer.text
    assert "nhsuk-header" in answer.text


@pytest.mark.parametrize("path", ["/api/no-such-thing", "/no-such-page"])
def test_a_program_asking_for_an_unknown_path_still_gets_json(client, path: str) -> None:
    headers = {"accept": "application/json"} if path == "/no-such-page" else BROWSER
    answer = client.get(path, headers=headers)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Not Found"}


def _failing_app(portal_world: PortalWorld):
    from booking_api.core.config import Settings
    from cdip_web.app import create_app

    app = create_app(Settings(database_url=portal_world.url, environment="test"))

    @app.get("/boom")
    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("a fault for the test")

    return app


def test_a_server_fault_on_a_page_gets_the_nhs_problem_page(portal_world: PortalWorld) -> None:
    from fastapi.testclient import TestClient

    with TestClient(_failing_app(portal_world), raise_server_exceptions=False) as client:
        page = client.get("/boom", headers=BROWSER)
        api = client.get("/api/boom", headers=BROWSER)
    assert page.status_code == api.status_code == 500
    assert "Sorry, there is a problem with the service" in page.text
    assert api.json() == {"detail": "Internal Server Error"}


def _set_contact(world: PortalWorld, request_id: int, **contact: object) -> None:
    from sqlalchemy import update

    from booking_api.patients.models import Patient
    from booking_api.requests.models import Request

    engine = portal_engine(world)
    try:
        with engine.begin() as connection:
            patient_id = connection.execute(select(Request.patient_id).where(
                Request.id == request_id)).scalar_one()
            connection.execute(update(Patient).where(Patient.id == patient_id)
                               .values(**contact))
    finally:
        engine.dispose()


def test_the_short_notice_list_names_the_mobile_offers_will_go_to(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_patient(portal_world, 1781)
    _set_contact(portal_world, login.request_id, phone="+447700900781", email=None)
    pages.sign_in(login)
    page = " ".join(pages.get("/short-notice").text.split())
    assert "by text message to <strong>07700 900781</strong>" in page


def test_without_a_mobile_the_short_notice_list_promises_no_texts(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_patient(portal_world, 1782)
    _set_contact(portal_world, login.request_id, phone=None, email="a@example.com")
    pages.sign_in(login)
    page = " ".join(pages.get("/short-notice").text.split())
    assert "we do not have a mobile number we can text" in page
    assert "offer you their appointment by text" not in page


def test_a_patient_who_opted_out_of_texts_is_not_promised_one(
        pages: PageClient, portal_world: PortalWorld) -> None:
    login = add_patient(portal_world, 1783)
    _set_contact(portal_world, login.request_id, phone="+447700900783", sms_opt_out=True)
    pages.sign_in(login)
    page = " ".join(pages.get("/short-notice").text.split())
    assert "07700 900783" not in page
    assert "we do not have a mobile number we can text" in page


def test_the_calendar_event_lasts_as_long_as_the_page_says(
        pages: PageClient, portal_world: PortalWorld) -> None:
    _book_first_time(pages, portal_world, 1791)
    page = pages.get("/appointment").text
    minutes = int(re.search(r"About (\d+) minutes", page).group(1))

    (event,) = Calendar.from_ical(pages.get("/appointment.ics").content).walk("VEVENT")

    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=minutes)


def test_the_calendar_event_has_a_reminder_alarm(
        pages: PageClient, portal_world: PortalWorld) -> None:
    _book_first_time(pages, portal_world, 1792)
    (event,) = Calendar.from_ical(pages.get("/appointment.ics").content).walk("VEVENT")
    (alarm,) = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") < timedelta(0)


SEARCHERS = itertools.count(1900)


def _sites_page(pages: PageClient, world: PortalWorld, number: int, compare: str = "soonest",
                query: str | None = None):
    pages.sign_in(add_patient(world, number if number != 1801 else next(SEARCHERS)))
    pages.get("/compare")
    pages.post("/compare", {"compare": compare})
    return pages.get("/site" if query is None else f"/site?q={query}")


@pytest.mark.parametrize(("query", "found"), [
    ("Heartlands", ["UHB-HGH"]), ("heartlands hospital", ["UHB-HGH"]),
    ("B9 5SS", ["UHB-HGH"]), ("b95ss", ["UHB-HGH"]), ("B8", ["UHB-WWH"]),
    ("Washwood", ["UHB-WWH"]),
], ids=["name", "name-lower", "postcode", "postcode-compact", "district", "part-name"])
def test_sites_can_be_searched_by_name_or_postcode(
        pages: PageClient, portal_world: PortalWorld, query: str, found: list[str]) -> None:
    _sites_page(pages, portal_world, 1801, query=query)
    assert pages.radio_values("site") == found


def test_sites_can_be_searched_by_town(pages: PageClient, portal_world: PortalWorld) -> None:
    _sites_page(pages, portal_world, 1802, query="birmingham")
    assert sorted(pages.radio_values("site")) == ["UHB-HGH", "UHB-QE", "UHB-WWH"]


def test_a_search_that_finds_nothing_says_so_and_offers_every_site(
        pages: PageClient, portal_world: PortalWorld) -> None:
    page = _sites_page(pages, portal_world, 1803, query="Shrewsbury")
    assert "No sites with free appointments match “Shrewsbury”" in page.text
    assert 'href="/site">Show all sites' in page.text


def test_a_search_too_long_is_refused_naming_the_field(
        pages: PageClient, portal_world: PortalWorld) -> None:
    page = _sites_page(pages, portal_world, 1804, query="x" * 61)
    assert pages.title().startswith("Error: ")
    assert 'href="#site-search"' in page.text and "60 characters or fewer" in page.text


def test_soonest_sites_on_the_same_day_are_listed_nearest_first(
        pages: PageClient, portal_world: PortalWorld) -> None:
    _sites_page(pages, portal_world, 1805, compare="nearest")
    nearest = pages.radio_values("site")
    _sites_page(pages, portal_world, 1806, compare="soonest")
    assert pages.radio_values("site") == nearest


def test_the_site_list_shows_the_earliest_time_not_only_the_day(
        pages: PageClient, portal_world: PortalWorld) -> None:
    page = _sites_page(pages, portal_world, 1807)
    assert re.search(r"Earliest appointment: \d{1,2}(:\d\d)?[ap]m on ", page.text)


def test_the_calendar_event_gives_the_full_address_with_postcode(
        pages: PageClient, portal_world: PortalWorld) -> None:
    _book_first_time(pages, portal_world, 1811)
    (event,) = Calendar.from_ical(pages.get("/appointment.ics").content).walk("VEVENT")
    assert re.search(r", [A-Z][\w -]+ [A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$", str(event["LOCATION"]))


def test_the_appointment_says_where_and_when_to_go(
        pages: PageClient, portal_world: PortalWorld) -> None:
    _book_first_time(pages, portal_world, 1812)
    page = " ".join(pages.get("/appointment").text.split())
    assert re.search(r"Arrive by <strong>\d{1,2}(:\d\d)?[ap]m</strong>, 10 minutes before", page)
    assert re.search(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}</p>", page)  # the full postcode
    assert 'href="https://www.openstreetmap.org/?mlat=' in page
    assert "When you arrive, go to:" in page
    assert re.search(r"call 0121 496 \d{4}", page)
    assert "<h2>What happens during the test</h2>" in page
    assert "A radiographer will take you to the X-ray room" in page

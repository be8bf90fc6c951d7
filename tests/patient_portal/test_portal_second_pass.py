"""The portal's second pass (issue 17, bugs found by trying it): more time on each press,
a held time while changing, a calendar file that cancels, sign-out by POST everywhere,
NHS-styled error pages, true words about messages, and the calendar event's details."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
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

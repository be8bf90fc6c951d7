"""Telling us what you need, in the portal: one page of checkboxes, errors that name their
field, a chaperone offered only for an intimate examination, and what was saved shown when
the page is opened again."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from booking_api.appointments.models import Appointment
from booking_api.network.models import Site
from booking_api.slots.models import Slot
from tests.patient_portal.page_client import PageClient
from tests.patient_portal.portal_world import PortalWorld, book_late_slot, portal_engine
from tests.patient_portal.question_world import add_questioned_patient


@pytest.fixture
def pages(client: TestClient) -> PageClient:
    return PageClient(client)


@pytest.mark.parametrize(("sent", "field", "message"), [
    ({}, "needs", "Select what you need, or select that you do not need any of these"),
    ({"needs": ["none", "hoist"]}, "needs", "not both"),
    ({"needs": "interpreter"}, "interpreter-language",
     "Enter the language you need an interpreter for"),
    ({"needs": "interpreter", "interpreter-language": "x" * 51}, "interpreter-language",
     "Language must be 50 characters or fewer"),
    ({"needs": "chaperone"}, "needs", "Select what you need"),
])
def test_needs_that_cannot_be_saved_are_shown_again_naming_the_field(
        pages: PageClient, portal_world: PortalWorld, sent, field, message) -> None:
    pages.sign_in(portal_world.patients[9])
    pages.get("/your-needs")
    response = pages.post("/your-needs", sent)
    assert response.status_code == 422 and pages.title().startswith("Error: ")
    assert f'href="#{field}"' in response.text and message in response.text


def test_saved_needs_are_shown_when_the_page_is_opened_again(pages: PageClient,
                                                             portal_world: PortalWorld) -> None:
    pages.sign_in(portal_world.patients[8])
    pages.get("/your-needs")
    response = pages.post("/your-needs", {"needs": ["interpreter", "step-free"],
                                          "interpreter-language": "Punjabi"})
    assert "We have recorded what you need for your visit" in response.text
    again = pages.get("/your-needs").text
    assert 'value="Punjabi"' in again
    assert 'value="step-free" checked' in again and 'value="hoist" checked' not in again


def test_a_chaperone_is_offered_for_a_transvaginal_scan_only(pages: PageClient,
                                                             portal_world: PortalWorld) -> None:
    pages.sign_in(portal_world.patients[7])
    assert "A chaperone" not in pages.get("/your-needs").text
    login = add_questioned_patient(portal_world, 31, "UPELV")
    pages.sign_in(login)
    assert "A chaperone" in pages.get("/your-needs").text


def test_a_need_the_booked_site_lacks_is_pointed_out(pages: PageClient,
                                                     portal_world: PortalWorld) -> None:
    login = portal_world.patients[4]
    book_late_slot(portal_world, login)
    site_id = _booked_site(portal_world, login.request_id)
    _set_hoist(portal_world, site_id, False)
    try:
        pages.sign_in(login)
        pages.get("/your-needs")
        response = pages.post("/your-needs", {"needs": "hoist"})
    finally:
        _set_hoist(portal_world, site_id, True)
    assert "where your appointment is, does not have a hoist" in response.text


def _booked_site(world: PortalWorld, request_id: int) -> str:
    engine = portal_engine(world)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(Slot.site_id).join(
                Appointment, Appointment.slot_id == Slot.id).where(
                Appointment.request_id == request_id))
    finally:
        engine.dispose()


def _set_hoist(world: PortalWorld, site_id: str, hoist: bool) -> None:
    engine = portal_engine(world)
    try:
        with engine.begin() as connection:
            connection.execute(update(Site).where(Site.site_id == site_id).values(hoist=hoist))
    finally:
        engine.dispose()

"""Telling us what you need, in the portal: one page of checkboxes, errors that name their
field, a chaperone offered only for an intimate examination, and what was saved shown when
the page is opened again."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.patient_portal.page_client import PageClient
from tests.patient_portal.portal_world import PortalWorld
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

"""Contact details in the portal: a new mobile number or email address is saved only when
the security code sent to it is entered; how we contact you needs an address for the
channel chosen; every error names its field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from booking_api.core.db import transaction
from booking_api.outbox.models import OutboxMessage
from tests.patient_portal.page_client import PageClient
from tests.patient_portal.portal_world import PortalWorld, portal_engine
from tests.patient_portal.question_world import add_questioned_patient, latest_code

MOBILE = "07400 123456"


@pytest.fixture
def pages(client: TestClient) -> PageClient:
    return PageClient(client)


def code_messages(world: PortalWorld) -> list[str]:
    engine = portal_engine(world)
    try:
        with transaction(engine) as session:
            return list(session.scalars(select(OutboxMessage.channel).where(
                OutboxMessage.event == "contact_code")))
    finally:
        engine.dispose()


def test_a_new_mobile_is_saved_only_once_its_code_is_entered(pages: PageClient,
                                                             portal_world: PortalWorld) -> None:
    pages.sign_in(add_questioned_patient(portal_world, 51, "UPELV"))
    assert "Not given" in pages.get("/contact-details").text
    pages.get("/contact-details/mobile")
    response = pages.post("/contact-details/mobile", {"mobile": MOBILE})
    assert response.url.path == "/contact-details/code" and "Check your phone" in response.text
    assert "sms" in code_messages(portal_world)
    assert "07400 123456" not in pages.get("/contact-details").text
    pages.get("/contact-details/code")
    response = pages.post("/contact-details/code", {"code": latest_code(portal_world)})
    assert response.url.path == "/contact-details"
    assert "Your mobile number has been saved" in response.text
    assert "07400 123456" in response.text


def test_a_wrong_code_is_shown_again_naming_the_field(pages: PageClient,
                                                      portal_world: PortalWorld) -> None:
    pages.sign_in(add_questioned_patient(portal_world, 52, "UPELV"))
    pages.get("/contact-details/email")
    pages.post("/contact-details/email", {"email": "someone@example.org"})
    code = latest_code(portal_world)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = pages.post("/contact-details/code", {"code": wrong})
    assert response.status_code == 422 and pages.title().startswith("Error: ")
    assert 'href="#code"' in response.text and "The security code is not right" in response.text
    assert "someone@example.org" not in pages.get("/contact-details").text


@pytest.mark.parametrize(("kind", "sent", "message"), [
    ("mobile", "", "Enter your mobile number"),
    ("mobile", "0121 496 0000", "Enter a UK mobile number, like 07700 900 982"),
    ("email", "name@", "Enter an email address in the correct format"),
])
def test_a_bad_address_is_shown_again_naming_the_field(pages: PageClient,
                                                       portal_world: PortalWorld, kind, sent,
                                                       message) -> None:
    pages.sign_in(portal_world.patients[6])
    pages.get(f"/contact-details/{kind}")
    response = pages.post(f"/contact-details/{kind}", {kind: sent})
    assert response.status_code == 422 and pages.title().startswith("Error: ")
    assert f'href="#{kind}"' in response.text and message in response.text


@pytest.mark.parametrize(("sent", "message"), [
    ({}, "Select how you want us to contact you"),
    ({"preference": "sms"}, "Add a mobile number before choosing text messages"),
])
def test_a_preference_that_cannot_be_saved_names_the_field(pages: PageClient,
                                                           portal_world: PortalWorld, sent,
                                                           message) -> None:
    pages.sign_in(portal_world.patients[6])
    pages.get("/contact-details/preference")
    response = pages.post("/contact-details/preference", sent)
    assert response.status_code == 422
    assert 'href="#preference"' in response.text and message in response.text


def test_letters_only_is_saved_and_shown(pages: PageClient, portal_world: PortalWorld) -> None:
    pages.sign_in(portal_world.patients[5])
    pages.get("/contact-details/preference")
    response = pages.post("/contact-details/preference", {"preference": "none"})
    assert "How we contact you has been saved" in response.text
    assert "By letter only" in response.text

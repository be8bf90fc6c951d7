"""Signing in and out of the console, the session's idle timeout, and role checks on every
page: a clerk cannot reach admin pages, a patient's session cannot reach /staff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from staff_console.security import COOKIE_NAME
from tests.booking_api.access_support import MovableClock
from tests.patient_portal.page_client import PageClient
from tests.staff_console.console_world import ConsoleWorld
from tests.staff_console.staff_client import StaffClient


def test_a_clerk_signs_in_and_lands_on_the_worklist(staff: StaffClient) -> None:
    answer = staff.sign_in("clerk")
    assert answer.status_code == 200
    assert staff.path() == "/staff/worklist"
    assert "Test Clerk (clerk)" in answer.text
    cookie = answer.history[0].headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=") and "Path=/staff" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_a_vetting_radiologist_lands_on_the_vetting_queue(staff: StaffClient) -> None:
    staff.sign_in("vetting")
    assert staff.path() == "/staff/vetting"


@pytest.mark.parametrize(("username", "password", "field", "message"), [
    ("", "x", "username", "Enter your username"),
    ("t.clerk", "", "password", "Enter your password"),
    ("t.clerk", "wrong password", "username", "Username or password is not right."),
    ("nobody", "wrong password", "username", "Username or password is not right."),
])
def test_a_failed_sign_in_names_the_field_and_signs_nobody_in(
        staff: StaffClient, username: str, password: str, field: str, message: str) -> None:
    staff.get("/staff/sign-in")
    answer = staff.post("/staff/sign-in", {"username": username, "password": password})
    assert answer.status_code == 400
    assert staff.title().startswith("Error: ")
    assert f'href="#{field}"' in answer.text and message in answer.text
    assert staff.get("/staff/worklist").url.path == "/staff/sign-in"


def test_pages_need_a_signed_in_member_of_staff(staff: StaffClient) -> None:
    for path in ("/staff", "/staff/worklist", "/staff/vetting", "/staff/diary",
                 "/staff/intake", "/staff/admin", "/staff/requests/1"):
        assert staff.get(path).url.path == "/staff/sign-in", path


def test_sign_out_is_a_post_that_ends_the_session(staff: StaffClient) -> None:
    staff.sign_in("clerk")
    assert staff.client.get("/staff/sign-out", follow_redirects=False).status_code == 405
    answer = staff.post("/staff/sign-out")
    assert staff.path() == "/staff/sign-in" and "You have signed out." in answer.text
    assert staff.get("/staff/worklist").url.path == "/staff/sign-in"


def test_a_form_without_its_token_is_refused_and_changes_nothing(staff: StaffClient) -> None:
    staff.sign_in("clerk")
    answer = staff.post("/staff/sign-out", hidden=False)
    assert answer.status_code == 400 and "this page has expired" in answer.text
    assert staff.get("/staff/worklist").url.path == "/staff/worklist"


def test_the_session_ends_after_twenty_idle_minutes_with_a_warning_first(
        staff: StaffClient, clock: MovableClock) -> None:
    staff.sign_in("clerk")
    page = staff.get("/staff/worklist")
    assert "signed out after 20 minutes without using the console" in page.text
    assert "data-session-ends=" in page.text and "Stay signed in" in page.text
    clock.advance(timedelta(minutes=19))
    assert staff.get("/staff/worklist").url.path == "/staff/worklist"  # use restarts the time
    clock.advance(timedelta(minutes=19))
    staff.post("/staff/session", {"return": "/staff/diary"})
    assert staff.path() == "/staff/diary"
    clock.advance(timedelta(minutes=21))
    answer = staff.get("/staff/worklist")
    assert answer.url.path == "/staff/sign-in"
    assert "not used for 20 minutes" in answer.text


@pytest.mark.parametrize(("role", "path"), [
    ("clerk", "/staff/admin"), ("manager", "/staff/admin"), ("clerk", "/staff/vetting"),
    ("vetting", "/staff/worklist"), ("vetting", "/staff/diary"), ("vetting", "/staff/intake"),
    ("vetting", "/staff/admin")])
def test_each_page_refuses_the_roles_it_is_not_for(staff: StaffClient, role: str,
                                                   path: str) -> None:
    staff.sign_in(role)
    answer = staff.get(path)
    assert answer.status_code == 403
    assert f"You are signed in as {role}" in answer.text


def test_an_admin_reaches_the_admin_page(staff: StaffClient) -> None:
    staff.sign_in("admin")
    answer = staff.get("/staff/admin")
    assert answer.status_code == 200 and "t.clerk" in answer.text


def test_a_clerk_cannot_post_an_admin_or_vetting_action(staff: StaffClient,
                                                        world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    answer = staff.post(f"/staff/vetting/{world.received}", {"decision": "reject",
                                                              "reject-reason": "no"})
    assert answer.status_code == 403
    staff.get(f"/staff/requests/{world.received}")
    assert "received" in staff.last.text


def test_a_patients_session_cannot_reach_the_console(staff: StaffClient,
                                                     world: ConsoleWorld) -> None:
    patient = PageClient(staff.client)
    patient.sign_in(world.portal.patients[0])
    assert patient.last is not None and patient.last.url.path in ("/your-test", "/appointment")
    answer = staff.get("/staff/worklist")
    assert answer.url.path == "/staff/sign-in"
    portal_cookie = staff.client.cookies.get("cdip_portal")
    assert portal_cookie
    forged = staff.client.get("/staff/worklist", cookies={COOKIE_NAME: portal_cookie})
    assert forged.url.path == "/staff/sign-in"

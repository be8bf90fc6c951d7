"""The clerks' and vetting staff's work over HTTP: the worklist and its filters, a
request's record, facts and overrides (hard stops refused naming the rule), vetting,
booking on a patient's behalf (told through the outbox), the diary with blocking, and
requests entered by hand (the NHS number's check digit)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from booking_api.appointments.models import Appointment
from booking_api.audit.models import PatientRecordRead
from booking_api.database import open_engine
from booking_api.outbox.models import OutboxMessage
from booking_api.requests.models import Request
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, RequestState, SlotStatus
from tests.staff_console.console_world import ConsoleWorld
from tests.staff_console.staff_client import StaffClient


def _state(world: ConsoleWorld, request_id: int) -> RequestState:
    engine = open_engine(world.url)
    try:
        with engine.connect() as connection:
            return RequestState(connection.scalar(
                select(Request.state).where(Request.id == request_id)))
    finally:
        engine.dispose()


def _requests_listed(text: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/staff/requests/(\d+)">Request', text)]


def test_the_worklist_lists_open_requests_most_urgent_first(staff: StaffClient,
                                                            world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    page = staff.get("/staff/worklist")
    listed = _requests_listed(page.text)
    assert world.waiting in listed
    assert world.received not in listed  # not vetted yet: the vetting queue's
    assert {p.request_id for p in world.portal.patients} <= set(listed)


@pytest.mark.parametrize(("query", "field"), [
    ("modality=PET", "modality"), ("modality=mr", "modality"), ("trust=NOPE", "trust"),
    ("site=NOPE", "site"),
    ("ics=NOPE", "ics"), ("weeks=-1", "weeks"), ("weeks=lots", "weeks"),
    ("state=attended", "state"), ("after=not-a-cursor", "after")])
def test_a_bad_filter_is_named_and_lists_nothing(staff: StaffClient, query: str,
                                                 field: str) -> None:
    staff.sign_in("clerk")
    answer = staff.get(f"/staff/worklist?{query}")
    assert answer.status_code == 400
    assert f'href="#{field}"' in answer.text
    assert _requests_listed(answer.text) == []


def test_the_worklist_filters_narrow_it(staff: StaffClient, world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    waiting = _requests_listed(staff.get("/staff/worklist?state=waiting").text)
    assert world.waiting in waiting
    assert not set(waiting) & {p.request_id for p in world.portal.patients}
    mri = staff.get("/staff/worklist?modality=MR")
    assert mri.status_code == 200 and _requests_listed(mri.text) == [world.unsafe_mri]
    calls = _requests_listed(staff.get("/staff/worklist?needs_call=yes").text)
    assert world.waiting in calls  # no phone or email
    assert _requests_listed(staff.get("/staff/worklist?weeks=3").text) == []
    assert world.waiting in _requests_listed(staff.get("/staff/worklist?weeks=2").text)


def test_the_request_page_shows_every_rule_history_and_audit(staff: StaffClient,
                                                             world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    page = staff.get(f"/staff/requests/{world.waiting}")
    assert page.status_code == 200
    for text in ("self-booking-contact", "No phone number or email address", "vetting-complete",
                 "received → justified", "justified → waiting", "request.justify",
                 "Console Waiting"):
        assert text in page.text, text
    assert staff.get("/staff/requests/999999").status_code == 404


def test_an_override_needs_a_reason_and_a_hard_stop_is_refused_naming_the_rule(
        staff: StaffClient, world: ConsoleWorld) -> None:
    before = _state(world, world.unsafe_mri)
    staff.sign_in("clerk")
    staff.get(f"/staff/requests/{world.unsafe_mri}")
    missing = staff.post(f"/staff/requests/{world.unsafe_mri}/overrides",
                         {"rule": "mr-unsafe-implant", "override-reason": " "})
    assert missing.status_code == 400 and 'href="#override-reason"' in missing.text
    refused = staff.post(f"/staff/requests/{world.unsafe_mri}/overrides",
                         {"rule": "mr-unsafe-implant", "override-reason": "urgent"})
    assert refused.status_code == 403
    assert "override of rule &#39;mr-unsafe-implant&#39; refused" in refused.text
    assert "hard stop" in refused.text
    assert _state(world, world.unsafe_mri) is before


def test_a_clerk_overrides_a_rule_with_a_reason_and_the_request_moves(
        staff: StaffClient, world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    staff.get(f"/staff/requests/{world.waiting}")
    answer = staff.post(f"/staff/requests/{world.waiting}/overrides",
                        {"rule": "self-booking-contact",
                         "override-reason": "patient will be booked by phone"})
    assert answer.status_code == 200 and staff.path() == f"/staff/requests/{world.waiting}"
    assert "Overridden by clerk:t.clerk (clerk): patient will be booked by phone" in answer.text
    assert _state(world, world.waiting) is RequestState.APPOINTABLE


@pytest.mark.parametrize(("name", "value", "field"), [
    ("", "yes", "fact-name"), ("no_such_fact", "yes", "fact-name"),
    ("egfr_ml_min", "", "fact-value"), ("egfr_ml_min", "lots", "fact-value"),
    ("egfr_date", "31/12/2026", "fact-value")])
def test_a_bad_fact_is_named_and_nothing_recorded(staff: StaffClient, world: ConsoleWorld,
                                                 name: str, value: str, field: str) -> None:
    staff.sign_in("clerk")
    staff.get(f"/staff/requests/{world.received}")
    answer = staff.post(f"/staff/requests/{world.received}/facts",
                        {"fact-name": name, "fact-value": value})
    assert answer.status_code == 400 and f'href="#{field}"' in answer.text
    assert "No facts recorded by hand." in answer.text


def test_a_fact_is_recorded_and_shown(staff: StaffClient, world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    staff.get(f"/staff/requests/{world.unsafe_mri}")
    answer = staff.post(f"/staff/requests/{world.unsafe_mri}/facts",
                        {"fact-name": "weight_kg", "fact-value": "81.5"})
    assert staff.path() == f"/staff/requests/{world.unsafe_mri}"
    assert "Recorded: weight (kg)." in answer.text and "81.5" in answer.text


def test_vetting_justifies_with_a_protocol_or_rejects_with_a_reason(
        staff: StaffClient, world: ConsoleWorld) -> None:
    staff.sign_in("vetting")
    queue = staff.get("/staff/vetting")
    assert f'href="/staff/vetting/{world.received}"' in queue.text
    staff.get(f"/staff/vetting/{world.received}")
    bad = staff.post(f"/staff/vetting/{world.received}", {"decision": "justify",
                                                          "exam-code": "XCHES"})
    assert bad.status_code == 400
    assert 'href="#protocol"' in bad.text and 'href="#priority"' in bad.text
    no_reason = staff.post(f"/staff/vetting/{world.received}", {"decision": "reject"})
    assert no_reason.status_code == 400 and 'href="#reject-reason"' in no_reason.text
    staff.get(f"/staff/vetting/{world.received}")
    done = staff.post(f"/staff/vetting/{world.received}", {
        "decision": "justify", "exam-code": "XCHES", "protocol": "PA chest",
        "priority": "urgent"})
    assert staff.path() == "/staff/vetting" and f"Request {world.received} vetted" in done.text
    assert f'href="/staff/vetting/{world.received}"' not in done.text
    assert _state(world, world.received) in (RequestState.WAITING, RequestState.APPOINTABLE)


def test_a_clerk_books_changes_and_cancels_for_a_patient(staff: StaffClient,
                                                         world: ConsoleWorld) -> None:
    request_id = world.portal.patients[1].request_id
    engine = open_engine(world.url)
    staff.sign_in("clerk")
    search = staff.get(f"/staff/requests/{request_id}/book?order=soonest")
    slots = re.findall(r'name="slot" value="(\d+)"', search.text)
    assert len(slots) >= 2
    staff.post(f"/staff/requests/{request_id}/book/choose", {"slot": slots[0]})
    assert staff.path() == f"/staff/requests/{request_id}/book/confirm"
    no_reason = staff.post(f"/staff/requests/{request_id}/book/confirm", {"reason": ""})
    assert no_reason.status_code == 400 and 'href="#reason"' in no_reason.text
    with engine.connect() as connection:
        messages_before = connection.scalar(select(func.count()).select_from(OutboxMessage))
    staff.post(f"/staff/requests/{request_id}/book/confirm",
               {"reason": "booked by phone"})
    assert staff.path() == f"/staff/requests/{request_id}" and "Booked." in staff.last.text
    with engine.connect() as connection:
        booked = connection.execute(select(Appointment.slot_id, Appointment.state).where(
            Appointment.request_id == request_id,
            Appointment.state == AppointmentState.BOOKED)).all()
        assert [(int(slots[0]), AppointmentState.BOOKED)] == booked
        assert connection.scalar(select(func.count()).select_from(OutboxMessage)) \
            > messages_before
    search = staff.get(f"/staff/requests/{request_id}/book?order=site&site=UHB-HGH")
    other = re.findall(r'name="slot" value="(\d+)"', search.text)[0]
    staff.post(f"/staff/requests/{request_id}/book/choose", {"slot": other})
    staff.post(f"/staff/requests/{request_id}/book/confirm", {"reason": "patient asked"})
    staff.get(f"/staff/requests/{request_id}/book")
    staff.post(f"/staff/requests/{request_id}/cancel", {"cancel-reason": "no longer needed"})
    assert "Appointment cancelled" in staff.last.text
    with engine.connect() as connection:
        states = connection.execute(select(Appointment.slot_id, Appointment.state).where(
            Appointment.request_id == request_id).order_by(Appointment.id)).all()
    engine.dispose()
    assert (int(other), AppointmentState.CANCELLED) in states
    assert not [s for s in states if s[1] in (AppointmentState.BOOKED, AppointmentState.HELD)]
    assert _state(world, request_id) is RequestState.APPOINTABLE


def test_a_clerk_blocks_and_unblocks_a_slot_with_a_reason(staff: StaffClient,
                                                          world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    day = world.portal.first_day.isoformat()
    diary = staff.get(f"/staff/diary/UHB-WWH?date={day}")
    assert diary.status_code == 200 and "UHB-WWH" not in staff.title()
    slot_id = int(re.findall(r'/staff/diary/slots/(\d+)/block', diary.text)[0])
    staff.get(f"/staff/diary/slots/{slot_id}/block")
    missing = staff.post(f"/staff/diary/slots/{slot_id}/block", {"reason": ""})
    assert missing.status_code == 400 and 'href="#reason"' in missing.text
    done = staff.post(f"/staff/diary/slots/{slot_id}/block", {"reason": "scanner service"})
    assert staff.path() == "/staff/diary/UHB-WWH"
    assert f"/staff/diary/slots/{slot_id}/unblock" in done.text
    engine = open_engine(world.url)
    with engine.connect() as connection:
        assert connection.scalar(select(Slot.status).where(Slot.id == slot_id)) \
            is SlotStatus.BUSY_UNAVAILABLE
    staff.get(f"/staff/diary/slots/{slot_id}/unblock")
    staff.post(f"/staff/diary/slots/{slot_id}/unblock", {"reason": "service done"})
    with engine.connect() as connection:
        assert connection.scalar(select(Slot.status).where(Slot.id == slot_id)) \
            is SlotStatus.FREE
    engine.dispose()
    week = staff.get(f"/staff/diary/UHB-WWH?date={day}&view=week")
    assert week.status_code == 200 and "free" in week.text
    assert staff.get("/staff/diary/UHB-WWH?date=tomorrow").status_code == 400
    assert staff.get("/staff/diary/NOWHERE").status_code == 404


GOOD_ORDER = {"nhs-number": "999 000 0018", "given-name": "Paper", "family-name": "Order",
              "dob-day": "3", "dob-month": "4", "dob-year": "1955", "postcode": "B15 2TH",
              "exam": "XCHES", "priority": "routine", "site": "UHB-QE", "referrer": "Dr Who"}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"nhs-number": "999 000 0019"}, "nhs-number", "fails the modulus-11 check"),
    ({"nhs-number": "12345"}, "nhs-number", "must be 10 digits"),
    ({"nhs-number": ""}, "nhs-number", "Enter the patient"),
    ({"given-name": ""}, "given-name", "first name"),
    ({"dob-year": ""}, "dob-year", "must include a year"),
    ({"dob-month": "13"}, "dob-day", "real date"),
    ({"postcode": "NOT A POSTCODE!"}, "postcode", "real postcode"),
    ({"phone": "12"}, "phone", "UK phone number"),
    ({"email": "nope"}, "email", "email address"),
    ({"exam": "NOPE"}, "exam", "examination"),
    ({"priority": "whenever"}, "priority", "priority"),
    ({"site": ""}, "site", "site"),
    ({"referrer": ""}, "referrer", "referred")])
def test_intake_names_each_bad_field_and_receives_nothing(
        staff: StaffClient, world: ConsoleWorld, changes: dict[str, str], field: str,
        message: str) -> None:
    staff.sign_in("clerk")
    staff.get("/staff/intake")
    answer = staff.post("/staff/intake", {**GOOD_ORDER, **changes})
    assert answer.status_code == 400
    assert f'href="#{field}"' in answer.text and message in answer.text
    assert staff.title().startswith("Error: ")


def test_a_paper_order_is_received_and_goes_to_vetting(staff: StaffClient,
                                                       world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    staff.get("/staff/intake")
    answer = staff.post("/staff/intake", GOOD_ORDER)
    assert staff.path().startswith("/staff/requests/")
    request_id = int(staff.path().rsplit("/", 1)[1])
    assert "in the vetting queue" in answer.text and "999 000 0018" in answer.text
    assert _state(world, request_id) is RequestState.RECEIVED
    staff.get("/staff/intake")
    again = staff.post("/staff/intake", {**GOOD_ORDER, "dob-day": "4"})
    assert again.status_code == 400 and "different date of birth" in again.text


def test_reading_a_request_is_logged_in_the_patients_access_log(staff: StaffClient,
                                                                world: ConsoleWorld) -> None:
    staff.sign_in("clerk")
    assert staff.get(f"/staff/requests/{world.unsafe_mri}").status_code == 200
    engine = open_engine(world.url)
    with engine.connect() as connection:
        reads = connection.execute(
            select(PatientRecordRead.actor, PatientRecordRead.route)
            .join(Request, Request.patient_id == PatientRecordRead.patient_id)
            .where(Request.id == world.unsafe_mri)).all()
    engine.dispose()
    assert ("clerk:t.clerk", "/staff/requests/{request_id}") in reads

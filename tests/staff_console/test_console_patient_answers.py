"""What a patient told us online is in front of the clerk or radiographer on the request's
page: each answer to the health questions (the one needing review marked), the rule it
trips, and the needs for the visit (interpreter and language, chaperone...)."""

from __future__ import annotations

from booking_api.access.principals import PatientPrincipal
from booking_api.database import open_database
from booking_api.needs.flows import record_needs
from booking_api.questionnaires.flows import submit_answers
from booking_api.requests.models import Request
from domain.patient_needs import PatientNeeds
from domain.questionnaires import MRI_SAFETY
from tests.patient_portal.question_world import add_questioned_patient
from tests.staff_console.console_world import ConsoleWorld
from tests.staff_console.staff_client import StaffClient


def _patient_of(world: ConsoleWorld, number: int, exam: str) -> tuple[int, int]:
    login = add_questioned_patient(world.portal, number, exam)
    db = open_database(world.url)
    try:
        with db.reading() as session:
            patient_id = session.get(Request, login.request_id).patient_id
    finally:
        db.dispose()
    return patient_id, login.request_id


def test_the_patients_mri_answers_are_shown_with_the_one_needing_review(
        staff: StaffClient, world: ConsoleWorld) -> None:
    patient_id, request_id = _patient_of(world, 41, "MBRAI")
    answers = {q.question_id: "no" for q in MRI_SAFETY.questions} | {"implant": "yes"}
    db = open_database(world.url)
    try:
        submit_answers(db, patient_id, request_id, MRI_SAFETY, answers,
                       PatientPrincipal(patient_id, request_id, frozenset()).actor)
    finally:
        db.dispose()
    staff.sign_in("vetting")
    page = staff.get(f"/staff/requests/{request_id}").text
    assert "Do you have any other implant or device in your body?" in page
    assert "<strong>Yes (needs review)</strong>" in page
    assert "mri-safety-review" in page
    assert f"patient:{patient_id} (mri-safety questionnaire #" in page
    queue = staff.get("/staff/vetting").text
    assert f'href="/staff/requests/{request_id}#answers">Request {request_id}</a>' in queue


def test_the_patients_needs_are_shown_among_the_access_needs(staff: StaffClient,
                                                             world: ConsoleWorld) -> None:
    patient_id, request_id = _patient_of(world, 42, "UPELV")
    db = open_database(world.url)
    try:
        record_needs(db, patient_id, request_id,
                     PatientNeeds(interpreter_language="Polish", hoist=True, chaperone=True),
                     PatientPrincipal(patient_id, request_id, frozenset()).actor)
    finally:
        db.dispose()
    staff.sign_in("clerk")
    page = staff.get(f"/staff/requests/{request_id}").text
    assert "interpreter (Polish), hoist, chaperone" in page
    assert "The patient asked for a chaperone; book one with the appointment" in page

"""A request entered by hand from a paper order, validated field by field (the NHS number by
its modulus-11 check digit); the patient matched by NHS number or registered, the request
received like any other and sent to vetting."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from booking_api.console.catalogue import exam_choices
from booking_api.console.diary_view import site_names
from booking_api.console.intake import PaperOrder, receive_paper_order
from booking_api.core.errors import InvalidInput
from booking_api.patients.identity import PatientDetails
from domain.nhs_number import InvalidNhsNumber, normalise_nhs_number
from domain.vocabulary import Priority
from pages_common.forms import Errors, FormData, ascii_digits, text_of
from staff_console.rendering import render
from staff_console.signed_in import ConsoleStaff, now_of, tell_next_page
from staff_console.views.common import Clerk, Form, database, once, see_other, today

router = APIRouter(prefix="/staff/intake", include_in_schema=False)
FIELDS = ("nhs-number", "given-name", "family-name", "dob-day", "dob-month", "dob-year",
          "postcode", "phone", "email", "exam", "priority", "site", "referrer", "question")
MAX_NAME, MAX_REFERRER, MAX_QUESTION = 100, 200, 2000
POSTCODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")


@router.get("", response_class=HTMLResponse)
def intake_page(request: Request, staff: Clerk) -> Response:
    return _page(request, staff)


@router.post("")
def intake(request: Request, staff: Clerk, form: Form) -> Response:
    exams = {code for code, _ in exam_choices(database(request))}
    sites = {code for code, _ in site_names(database(request))}
    order = read_order(form, exams, sites, today(request))
    if isinstance(order, dict):
        return _page(request, staff, order, form)

    def receive() -> Response:
        try:
            request_id = receive_paper_order(database(request), staff.actor, order,
                                             now=now_of(request))
        except InvalidInput as bad:
            return _page(request, staff, {bad.field or "nhs-number": bad.message}, form)
        tell_next_page(request, f"Request {request_id} received; it is in the vetting queue.")
        return see_other(f"/staff/requests/{request_id}")

    return once(request, staff, form, "/staff/intake", receive)


def read_order(form: FormData, exams: set[str], sites: set[str],
               today_: date) -> PaperOrder | Errors:
    """The checked order, or the message for each field at fault (in page order)."""
    errors: Errors = {}
    nhs = text_of(form, "nhs-number").strip()
    nhs_number = None
    if not nhs:
        errors["nhs-number"] = "Enter the patient's NHS number"
    else:
        try:
            nhs_number = normalise_nhs_number(nhs)
        except InvalidNhsNumber as bad:
            errors["nhs-number"] = f"The NHS number {bad.problem}"
    names = {}
    for field, label in (("given-name", "first name"), ("family-name", "last name")):
        value = text_of(form, field).strip()
        if not value:
            errors[field] = f"Enter the patient's {label}"
        elif len(value) > MAX_NAME or any(ord(c) < 32 for c in value):
            errors[field] = f"The {label} must be {MAX_NAME} characters or fewer"
        names[field] = value
    born = _date_of_birth(form, today_, errors)
    postcode = " ".join(text_of(form, "postcode").upper().split())
    if not postcode:
        errors["postcode"] = "Enter the patient's postcode"
    elif len(postcode) > 8 or not set(postcode) <= POSTCODE_CHARS or " " not in postcode:
        errors["postcode"] = "Enter a real postcode, for example B15 2TH"
    phone = text_of(form, "phone").strip().replace(" ", "") or None
    if phone and not (phone.startswith(("+44", "07", "01", "02")) and
                      ascii_digits(phone.lstrip("+"), 13) and len(phone) >= 10):
        errors["phone"] = "Enter a UK phone number, for example 07700 900123"
    email = text_of(form, "email").strip() or None
    if email and ("@" not in email or len(email) > 254 or " " in email):
        errors["email"] = "Enter an email address in the right format, like name@example.com"
    exam = text_of(form, "exam")
    if exam not in exams:
        errors["exam"] = "Select the examination asked for"
    priority = text_of(form, "priority")
    if priority not in {p.value for p in Priority}:
        errors["priority"] = "Select the priority on the order"
    site = text_of(form, "site")
    if site not in sites:
        errors["site"] = "Select the site the order was sent to"
    referrer = text_of(form, "referrer").strip()
    if not referrer:
        errors["referrer"] = "Enter who referred the patient"
    elif len(referrer) > MAX_REFERRER:
        errors["referrer"] = f"The referrer must be {MAX_REFERRER} characters or fewer"
    question = text_of(form, "question").strip()
    if len(question) > MAX_QUESTION:
        errors["question"] = f"The clinical question must be {MAX_QUESTION} characters or fewer"
    if errors or born is None:
        return errors
    return PaperOrder(
        patient=PatientDetails(given_name=names["given-name"],
                               family_name=names["family-name"], date_of_birth=born,
                               postcode=postcode, nhs_number=nhs_number, phone=phone,
                               email=email),
        exam_code=exam, priority=Priority(priority), referrer=referrer, site_id=site,
        clinical_question=question or None)


def _date_of_birth(form: FormData, today_: date, errors: Errors) -> date | None:
    parts = {p: text_of(form, f"dob-{p}").strip() for p in ("day", "month", "year")}
    missing = [p for p, v in parts.items() if not v]
    if len(missing) == 3:
        errors["dob-day"] = "Enter the patient's date of birth"
        return None
    if missing:
        errors[f"dob-{missing[0]}"] = f"Date of birth must include a {' and '.join(missing)}"
        return None
    try:
        if not (ascii_digits(parts["day"], 2) and ascii_digits(parts["month"], 2)
                and ascii_digits(parts["year"], 4) and len(parts["year"]) == 4):
            raise ValueError(parts)
        born = date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        errors["dob-day"] = "Date of birth must be a real date"
        return None
    if born > today_ or born.year < 1900:
        errors["dob-day"] = "Date of birth must be in the past"
        return None
    return born


def _page(request: Request, staff: ConsoleStaff, errors: Errors | None = None,
          form: FormData | None = None) -> Response:
    values = {f: text_of(form, f) for f in FIELDS} if form else {}
    return render(request, "staff/intake.jinja", {
        "values": values, "exams": exam_choices(database(request)),
        "sites": site_names(database(request)), "priorities": [p.value for p in Priority]},
        staff=staff, errors=errors, status=400 if errors else 200)

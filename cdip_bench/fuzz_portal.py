"""Every form of the patient portal as a request to fuzz. The forms are found, not listed:
a patient signs in and walks the journey (compare, site, date, time, check) and another,
already booked, opens their appointment's pages; every `<form method="post">` on the pages
they see is kept with its fields and the values the page gave them. A fuzzed post sends one
field replaced by a hostile value (as raw form bytes: a surrogate as ED A0 80) with the
page's CSRF token and a fresh form key, so each post is new work, not a replay."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from cdip_bench.fuzz_inputs import form_body, url_text

_FORM = re.compile(r'<form\b[^>]*\baction="([^"]+)"[^>]*>(.*?)</form>', re.S | re.I)
_METHOD_POST = re.compile(r'<form\b[^>]*\bmethod="post"', re.I)
_FIELD = re.compile(r'<(input|textarea|select)\b([^>]*)>', re.I)
_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"', re.I)
PAGES_WITH_QUERIES = {"/date": ("from",), "/time": ("all",), "/site": ("all",)}
"""Query parameters the portal's pages read."""
LAST_ACTIONS = ("/cancel", "/short-notice/leave")
"""Forms fuzzed last: a post that happens to be valid ends the booking they act on."""


@dataclass(frozen=True)
class PortalForm:
    patient: str
    """Which browser holds the session the form belongs to: `new`, `booked` or `anonymous`."""
    action: str
    fields: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return f"POST {self.action} (form)"


@dataclass(frozen=True)
class PortalLogin:
    booking_reference: str
    date_of_birth: date


Get = Callable[[str], str]
"""GET a portal path (following redirects) in a browser's session; the page's HTML."""
Post = Callable[[str, list[tuple[str, str]]], str]


def forms_on(page: str, patient: str) -> list[PortalForm]:
    """The POST forms of a page with their fields' names and the values the page set (the
    first option of radios and selects, the checked boxes)."""
    found: list[PortalForm] = []
    for match in _FORM.finditer(page):
        if not _METHOD_POST.search(match.group(0)):
            continue
        fields: dict[str, str] = {}
        for kind, attributes in _FIELD.findall(match.group(2)):
            attrs = {k.lower(): html.unescape(v) for k, v in _ATTRIBUTE.findall(attributes)}
            name = attrs.get("name")
            if not name or name in fields:
                continue
            fields[name] = attrs.get("value", "") if kind.lower() == "input" else ""
        found.append(PortalForm(patient, html.unescape(match.group(1)), tuple(fields.items())))
    return found


def walk_journey(get: Get, post: Post, login: PortalLogin, patient: str) -> list[PortalForm]:
    """Sign in, then through compare, site, date and time to the check page (holding a
    time), collecting every form on the way."""
    forms = forms_on(_signed_in(get, post, login), patient)
    page = get("/compare")
    for action, field in (("/compare", "compare"), ("/site", "site"), ("/date", "date"),
                          ("/time", "time")):
        forms += forms_on(page, patient)
        choice = _first_radio(page, field) or "soonest"
        page = post(action, [*_hidden(page, action), (field, choice)])
    return forms + forms_on(page, patient)


def walk_booked(get: Get, post: Post, login: PortalLogin, patient: str) -> list[PortalForm]:
    """Sign in a booked patient and open their appointment, cancel and short-notice pages."""
    forms = forms_on(_signed_in(get, post, login), patient)
    for path in ("/appointment", "/short-notice", "/cancel"):
        forms += forms_on(get(path), patient)
    return forms


def sign_in_forms(get: Get) -> list[PortalForm]:
    return forms_on(get("/sign-in"), "anonymous")


def ordered(forms: list[PortalForm]) -> list[PortalForm]:
    """Each (browser, action) once, the forms that end a booking last."""
    unique = {(f.patient, f.action): f for f in forms}
    return sorted(unique.values(), key=lambda f: (f.action in LAST_ACTIONS, f.action))


def fuzzed_post(form: PortalForm, field: str | None, value: str) -> bytes:
    """The form's body with `field` (None: a field of that name added) set to `value`, a
    fresh form key, everything else as the page gave it."""
    fields = [(name, uuid.uuid4().hex if name == "form_key" else text)
              for name, text in form.fields]
    if field is None:
        fields.append((value or "unnamed", "x"))
    else:
        fields = [(name, value if name == field else text) for name, text in fields]
    return form_body(fields)


def fuzzed_query(path: str, name: str, value: str) -> str:
    return f"{path}?{url_text(name)}={url_text(value)}"


def _signed_in(get: Get, post: Post, login: PortalLogin) -> str:
    page = get("/sign-in")
    born = login.date_of_birth
    return post("/sign-in", [*_hidden(page, "/sign-in"),
                             ("booking-reference", login.booking_reference),
                             ("date-of-birth-day", str(born.day)),
                             ("date-of-birth-month", str(born.month)),
                             ("date-of-birth-year", str(born.year))])


def _hidden(page: str, action: str) -> list[tuple[str, str]]:
    """The CSRF token and form key of the page's POST form to `action` (every signed-in page
    also carries the header's sign-out form, with its own token; /site also a GET search)."""
    for match in _FORM.finditer(page):
        if html.unescape(match.group(1)) == action and _METHOD_POST.search(match.group(0)):
            return re.findall(r'name="(csrf_token|form_key)" value="([^"]+)"', match.group(2))
    return []


def _first_radio(page: str, name: str) -> str | None:
    found = re.search(rf'name="{name}" type="radio" value="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None

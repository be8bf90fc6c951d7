"""`cdip bench fuzz`: every route of the service and every form of the portal sent hostile
input, on a scratch SQLite file or a fresh PostgreSQL database, counting the answers by
status class. The figure that matters is `status_classes.5xx`: it must be 0.

What is sent (in-process, through the app's ASGI interface, as the real app is built):
for each operation, a plausible request, then every target (path and query parameters,
every leaf of the body, the body as a whole; for HL7 every field) replaced in turn by every
hostile value of `fuzz_inputs.HOSTILE`, as each caller that may use the route (staff,
patient, no one); then `examples` requests per operation and caller with one to three
targets replaced at random (seeded). For the portal, every field of every form found by
walking the journey, replaced by every hostile text, plus the query parameters the pages
read. `fuzz_target` gives the property tests the same world and requests."""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from booking_api.core.config import Settings
from cdip_bench.booking_data import scratch_database
from cdip_bench.fuzz_api import HL7_ORDER, HttpCall, Ids, Operation, Target, operations_of
from cdip_bench.fuzz_inputs import CORE, HOSTILE, Hostile, form_body, json_body
from cdip_bench.fuzz_portal import (
    PAGES_WITH_QUERIES,
    PortalForm,
    PortalLogin,
    fuzzed_post,
    fuzzed_query,
    ordered,
    sign_in_forms,
    walk_booked,
    walk_journey,
)
from cdip_bench.fuzz_world import BORN, PASSWORD, STAFF, FuzzWorld, build_fuzz_world
from cdip_web.app import create_app

MAX_EXAMPLES_SHOWN = 12
FORM = "application/x-www-form-urlencoded"


def fuzz_benchmark(database_url: str = "", examples: int = 10, values: str = "core",
                   seed: int = 7) -> dict:
    """Hostile input on every route and portal form of a scratch database (SQLite by default,
    or a fresh database on the PostgreSQL server --database-url names, dropped afterwards):
    requests sent, answers by status class, and the first server errors (there should be
    none). --values: `core` (one hostile value of each kind in every field) or `all`;
    --examples: random requests per operation and caller, one to three fields changed to
    any hostile value."""
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    sweep = {"core": CORE, "all": HOSTILE}[values]
    with scratch_database(database_url or None) as url, fuzz_target(url) as target:
        tally = Tally()
        for operation in target.operations:
            for caller in operation.callers:
                _fuzz_operation(target, operation, caller, tally, sweep, examples,
                                random.Random(f"{seed}:{operation.name}:{caller}"))
        texts = tuple(h for h in sweep if isinstance(h.value, str))
        for form in target.forms:
            _fuzz_form(target, form, tally, texts)
        for browser in target.browsers:
            _fuzz_page_queries(target, browser, tally, texts)
        figures = {"database": url.split(":", 1)[0].split("+")[0],
                   "routes": len(target.operations), "portal_forms": len(target.forms),
                   "hostile_values_per_field": len(sweep),
                   "examples_per_operation": examples,
                   **tally.figures()}
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["load_average_before"] = round(load_before, 2)
    return figures


@dataclass
class Tally:
    """Answers by status class, and the first few server errors with what caused them."""

    classes: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)

    def add(self, status: int, what: str) -> None:
        self.classes[f"{status // 100}xx"] += 1
        if status >= 500 and len(self.server_errors) < MAX_EXAMPLES_SHOWN:
            self.server_errors.append(f"{status}: {what}")

    def figures(self) -> dict[str, Any]:
        classes = {f"{n}xx": self.classes.get(f"{n}xx", 0) for n in (2, 3, 4, 5)}
        return {"requests": sum(self.classes.values()), "status_classes": classes,
                "server_errors": classes["5xx"], "server_error_examples": self.server_errors}


@dataclass
class FuzzTarget:
    """The running app over the fuzz world, signed-in callers, and what to fuzz."""

    world: FuzzWorld
    client: TestClient
    headers: dict[str, dict[str, str]]
    operations: list[Operation]
    browsers: dict[str, TestClient]
    forms: list[PortalForm]

    def send(self, call: HttpCall) -> int:
        return self.client.request(call.method, call.url, headers=call.headers,
                                   content=call.content).status_code

    def post_form(self, form: PortalForm, field_name: str | None, value: str) -> int:
        return self.browsers[form.patient].post(
            form.action, content=fuzzed_post(form, field_name, value),
            headers={"Content-Type": FORM}).status_code

    def get_page(self, browser: str, path: str) -> int:
        return self.browsers[browser].get(path).status_code


@contextmanager
def fuzz_target(url: str) -> Iterator[FuzzTarget]:
    """The fuzz world in the empty database at `url`, the app over it, staff and a patient
    signed in, a booking, a hold and a held order made, and the portal's forms found."""
    world = build_fuzz_world(url)
    app = create_app(Settings(database_url=url, environment="test", run_jobs_in_server=False))
    with ExitStack() as stack:
        client = stack.enter_context(_client(app))
        headers = _sign_in(client, world)
        ids = _made_through_the_api(client, world, headers["staff"])
        browsers = {name: _client(app) for name in ("anonymous", "new", "booked")}
        """Browsers share the app the first client started (one lifespan)."""
        forms = ordered([*sign_in_forms(_getter(browsers["anonymous"])),
                         *walk_journey(_getter(browsers["new"]), _poster(browsers["new"]),
                                       _login(world, 2), "new"),
                         *walk_booked(_getter(browsers["booked"]),
                                      _poster(browsers["booked"]), _login(world, 0),
                                      "booked")])
        yield FuzzTarget(world, client, headers, operations_of(app.openapi(), ids),
                         browsers, forms)


def _fuzz_operation(target: FuzzTarget, operation: Operation, caller: str, tally: Tally,
                    sweep: tuple[Hostile, ...], examples: int, rng: random.Random) -> None:
    headers = target.headers[caller]
    tally.add(target.send(operation.call(headers)), f"{operation.name} as {caller}, valid")
    for spot in operation.targets:
        for hostile in sweep:
            tally.add(target.send(operation.call(headers, {spot: hostile.value})),
                      _what(operation, caller, {spot: hostile}))
    for _ in range(examples if operation.targets else 0):
        chosen = rng.sample(operation.targets, k=min(len(operation.targets), rng.randint(1, 3)))
        changes = {spot: rng.choice(HOSTILE) for spot in chosen}
        tally.add(target.send(operation.call(headers, {s: h.value for s, h in changes.items()})),
                  _what(operation, caller, changes))


def _fuzz_form(target: FuzzTarget, form: PortalForm, tally: Tally,
               texts: tuple[Hostile, ...]) -> None:
    for name in [*(name for name, _value in form.fields), None]:
        for hostile in texts:
            tally.add(target.post_form(form, name, hostile.value),
                      f"{form.name} as {form.patient}: {name or 'an extra field'} = "
                      f"{hostile.label}")


def _fuzz_page_queries(target: FuzzTarget, browser: str, tally: Tally,
                       texts: tuple[Hostile, ...]) -> None:
    for path, names in PAGES_WITH_QUERIES.items():
        for name in names:
            for hostile in texts:
                tally.add(target.get_page(browser, fuzzed_query(path, name, hostile.value)),
                          f"GET {path} as {browser}: ?{name}= {hostile.label}")


def _what(operation: Operation, caller: str, changes: dict[Target, Hostile]) -> str:
    return (f"{operation.name} as {caller}: "
            + ", ".join(f"{spot} = {hostile.label}" for spot, hostile in changes.items()))


def _client(app: Any) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False,
                      follow_redirects=True)


def _getter(client: TestClient):
    return lambda path: client.get(path).text


def _poster(client: TestClient):
    return lambda path, fields: client.post(path, content=form_body(fields), headers={
        "Content-Type": FORM}).text


def _login(world: FuzzWorld, index: int) -> PortalLogin:
    return PortalLogin(world.patients[index].booking_reference, BORN)


def _sign_in(client: TestClient, world: FuzzWorld) -> dict[str, dict[str, str]]:
    def bearer(path: str, body: dict[str, str]) -> dict[str, str]:
        answer = client.post(path, json=body)
        if answer.status_code != 200:
            raise RuntimeError(f"the fuzz world's sign-in failed: {answer.text}")
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    staff = {role: bearer("/api/auth/staff/sign-in", {"username": name, "password": PASSWORD})
             for role, (name, _kind) in STAFF.items() if role != "target"}
    patient = bearer("/api/auth/patient/sign-in", {
        "booking_reference": world.patients[0].booking_reference,
        "date_of_birth": BORN.isoformat()})
    return {"staff": staff["admin"], "vetting": staff["vetting"], "patient": patient,
            "anonymous": {}}


def _made_through_the_api(client: TestClient, world: FuzzWorld,
                          staff: dict[str, str]) -> Ids:
    """A booking for patient 0 (the patient caller), a hold for patient 1, a held order;
    the ids requests will name."""
    def post(path: str, body: Any, kind: str = "application/json") -> Any:
        content = json_body(body) if kind == "application/json" else body.encode()
        return client.post(path, content=content, headers={
            **staff, "Idempotency-Key": os.urandom(8).hex(), "Content-Type": kind})

    first, second = world.patients[0], world.patients[1]
    booked = post("/api/staff/bookings", {"request_id": first.request_id,
                                          "slot_id": world.slots[0], "reason": "fuzz"})
    post("/api/appointments/holds", {"request_id": second.request_id,
                                     "slot_id": world.slots[1]})
    post("/hl7/v2", HL7_ORDER.replace("XCHES^X-ray chest^NICIP", "ZZ99^Unknown^LOCAL"),
         "application/hl7-v2")
    held = client.get("/api/staff/held-orders", headers=staff).json()
    messages = client.get(f"/api/staff/messages?patient_id={first.patient_id}",
                          headers=staff).json()
    return Ids(request_id=first.request_id, slot_id=world.slots[2],
               appointment_id=booked.json().get("id", 1) if booked.status_code < 300 else 1,
               patient_id=first.patient_id,
               held_order_id=held[0]["id"] if isinstance(held, list) and held else 1,
               message_id=messages[0]["id"] if isinstance(messages, list) and messages else 1,
               room_id=world.rooms[0], username=STAFF["target"][0],
               booking_reference=first.booking_reference, date_of_birth=BORN.isoformat())

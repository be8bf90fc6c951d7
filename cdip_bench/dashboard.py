"""`cdip bench dashboard`: server time of the manager dashboard (/staff/reports) over HTTP
against a real uvicorn server on 127.0.0.1, signed in as a manager, on the console bench's
world: the reference network, six weeks of whole-network diaries (over a million slots at the
default share), the synthetic waiting list as open requests with their events, a share of the
first days' slots booked.

The server runs with the dashboard settings of a real service (`CDIP_DASHBOARD_REFRESH_SECONDS`
300: the figures are read and the default and per-modality views computed as it starts, in
the background;
`CDIP_DASHBOARD_WAIT_SECONDS` 0.2: a page waits at most that for the first read, then says the
figures are being worked out). Nothing is warmed by the bench itself.

Measured, in this order:
- `first_page_ms`: the first page after start-up, asked as soon as the bench manager has
  signed in (what the first manager of the day waits); `first_page_had_figures` says whether
  it showed the figures or that they were being worked out;
- `figures_after_start_s`: from the server first answering to a page showing the figures
  (pages asked every 0.25 s);
- `filter_first_view_p95_ms`: a filter combination (month x trust x modality) seen for the
  first time: the frames are in memory, the figures are computed;
- `page_p95_ms`: pages seen before (the usual case: managers flip between a few views);
- `chart_p95_ms`, `csv_p95_ms`: each figure's SVG chart and CSV download (six views each;
  `chart_p50_p95_ms_by_name` per chart);
- `page_after_change_ms`: the page after an appointment changed (the frames are read again).
Baseline in the same run: the service's /health p95 (the machine's floor). In-process:
`frames_read_s`, reading the frames alone."""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, insert, literal, select, update

from booking_api.access import services as access
from booking_api.access.models import AccountRole, StaffCreate
from booking_api.appointments.models import Appointment
from booking_api.core.db import transaction
from booking_api.reports.service_frames import service_inputs
from booking_api.requests.models import Request, RequestEvent
from cdip_bench.booking import running_server
from cdip_bench.booking_data import SETUP, scratch_database
from cdip_bench.console_world import staff_bench_world
from domain.lifecycle import RequestState
from slot_rules.slot_request import LONDON
from staff_console.charts import CHARTS

MANAGER_NAME = "bench.manager"
MANAGER_PASSWORD = "benchmark manager passphrase"
TABLES = ("waiting_trend", "dm01_bands", "trust_figures", "variation")
MODALITIES = ("", "MR", "CT", "US")
NOT_READY = "The figures are being worked out"
SERVICE_SETTINGS = {"CDIP_SECOND_FACTOR_ROLES": "admin",
                    "CDIP_DASHBOARD_REFRESH_SECONDS": "300",
                    "CDIP_DASHBOARD_WAIT_SECONDS": "0.2"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def dashboard_benchmark(database_url: str = "", scale: float = 0.25, weeks: int = 6,
                        session_share: float = 0.6, views: int = 60, seed: int = 11) -> dict:
    """Manager dashboard p95 (ms) over HTTP: first page, a filter's first view, a page seen
    before, charts, CSVs and the page after a change; on a scratch SQLite file (default) or
    a fresh PostgreSQL database (--database-url, dropped afterwards)."""
    if views < 10:
        raise ValueError(f"views must be at least 10, not {views}")
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    with scratch_database(database_url or None) as url:
        staff = staff_bench_world(url, weeks=weeks, scale=scale, seed=seed,
                                  session_share=session_share)
        world, network, booked = staff.world, staff.network, staff.booked
        _write_events(world.engine)
        _add_manager(world.engine)
        read_began = time.perf_counter()
        inputs = service_inputs(world.engine)
        frames_read = time.perf_counter() - read_began
        filled = time.perf_counter() - started
        rng = random.Random(seed)
        trusts = [t.trust_id for t in network.trusts]
        with _service_settings(), running_server(url, 1) as base, \
                httpx.Client(base_url=base, timeout=300) as client:
            up = time.perf_counter()
            _sign_in(client)
            figures = _measure(client, world.engine, trusts, rng, views, up)
        world.engine.dispose()
    return {"database": world.engine.dialect.name, "requests": len(inputs.requests),
            "request_events": len(inputs.request_events),
            "appointments": len(inputs.appointments), "sessions": len(inputs.sessions),
            "slots": world.slots, "booked_slots": booked,
            "frames_read_s": round(frames_read, 2), **figures,
            "fill_s": round(filled, 1), "elapsed_s": round(time.perf_counter() - started, 1),
            "cpus": os.cpu_count(),
            "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)]}


def _measure(client: httpx.Client, engine: Engine, trusts: list[str], rng: random.Random,
             views: int, up: float) -> dict:
    first_page = _first_page(client)
    had_figures = first_page[1]
    while not had_figures:
        time.sleep(0.25)
        had_figures = NOT_READY not in client.get("/staff/reports").text
    figures_after = time.perf_counter() - up
    health = [_timed(client, "/health") for _ in range(20)]
    this_month = datetime.now(LONDON).strftime("%Y-%m")
    combos = [f"?month={month}&trust={trust}&modality={modality}"
              for month in ("", this_month) for trust in ("", *rng.sample(trusts, 3))
              for modality in MODALITIES]
    rng.shuffle(combos)
    first_views = [_timed(client, f"/staff/reports{query}") for query in combos[:views // 3]]
    seen = combos[:views // 3]
    pages = [_timed(client, f"/staff/reports{rng.choice(seen)}") for _ in range(views)]
    by_chart: dict[str, list[float]] = {name: [] for name in CHARTS}
    for query in seen[:6]:
        for name in CHARTS:
            by_chart[name].append(_timed(client, f"/staff/reports/charts/{name}.svg{query}"))
    charts = [ms for times in by_chart.values() for ms in times]
    csvs = [_timed(client, f"/staff/reports/tables/{name}.csv{query}")
            for query in seen[:6] for name in TABLES]
    _change_an_appointment(engine)
    after_change = _timed(client, "/staff/reports")
    return {"first_page_ms": round(first_page[0], 1), "first_page_had_figures": first_page[1],
            "figures_after_start_s": round(figures_after, 2),
            "chart_p50_ms": _p50(charts),
            "filter_first_view_p95_ms": _p95(first_views),
            "filter_first_views": len(first_views),
            "page_p95_ms": _p95(pages), "page_p50_ms": _p50(pages), "pages": len(pages),
            "chart_p95_ms": _p95(charts), "csv_p95_ms": _p95(csvs),
            "page_after_change_ms": round(after_change, 1), "health_p95_ms": _p95(health),
            "chart_p50_p95_ms_by_name": {name: [_p50(times), _p95(times)]
                                         for name, times in by_chart.items()}}


def _write_events(engine: Engine) -> None:
    """The request event log the loaded rows imply: received when received, then the state
    each is in (appointable or waiting), and appointed when booked."""
    with transaction(engine) as session:
        for to_state, from_state in ((RequestState.RECEIVED, None),
                                     (RequestState.APPOINTABLE, RequestState.RECEIVED),
                                     (RequestState.WAITING, RequestState.RECEIVED)):
            chosen = select(Request.id, Request.received_at, literal("bench"),
                            literal(from_state.value if from_state else None),
                            literal(to_state.value))
            if to_state is not RequestState.RECEIVED:
                chosen = chosen.where(Request.state.in_([to_state, RequestState.APPOINTED])
                                      if to_state is RequestState.APPOINTABLE
                                      else Request.state == to_state)
            session.execute(insert(RequestEvent).from_select(
                ["request_id", "at", "actor", "from_state", "to_state"], chosen))
        session.execute(insert(RequestEvent).from_select(
            ["request_id", "at", "actor", "from_state", "to_state"],
            select(Appointment.request_id, Appointment.booked_at, literal("bench"),
                   literal(RequestState.APPOINTABLE.value),
                   literal(RequestState.APPOINTED.value))))


def _add_manager(engine: Engine) -> None:
    with transaction(engine) as session:
        access.create_staff(session, SETUP, StaffCreate(
            username=MANAGER_NAME, display_name="Bench Manager", role=AccountRole.MANAGER,
            password=MANAGER_PASSWORD), PasswordHasher())


@contextmanager
def _service_settings() -> Iterator[None]:
    """The server started inside asks a second factor of admins only: the bench signs in
    with a password (two-step sign-in has its own tests and costs nothing per page). Its
    dashboard settings are a real service's defaults (the test environment it runs in turns
    the warming off and waits long for the first read)."""
    before = {name: os.environ.get(name) for name in SERVICE_SETTINGS}
    os.environ.update(SERVICE_SETTINGS)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _first_page(client: httpx.Client) -> tuple[float, bool]:
    began = time.perf_counter()
    answer = client.get("/staff/reports")
    elapsed = (time.perf_counter() - began) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"GET /staff/reports answered {answer.status_code}")
    return elapsed, NOT_READY not in answer.text


def _change_an_appointment(engine: Engine) -> None:
    with transaction(engine) as session:
        first = session.scalar(select(func.min(Appointment.id)))
        session.execute(update(Appointment).where(Appointment.id == first)
                        .values(updated_at=datetime.now(UTC) + timedelta(seconds=1)))


def _sign_in(client: httpx.Client) -> None:
    page = client.get("/staff/sign-in")
    token = _CSRF.search(page.text)
    assert token is not None, "the sign-in page has no CSRF token"
    client.post("/staff/sign-in", data={"csrf_token": token.group(1), "username": MANAGER_NAME,
                                        "password": MANAGER_PASSWORD}, follow_redirects=True)
    if client.get("/staff/worklist").status_code != 200:  # not a report: those stay cold
        raise RuntimeError("the bench manager could not sign in")


def _timed(client: httpx.Client, path: str) -> float:
    began = time.perf_counter()
    answer = client.get(path)
    elapsed = (time.perf_counter() - began) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} answered {answer.status_code}")
    return elapsed


def _p95(values: list[float]) -> float:
    return round(float(np.percentile(values, 95)), 1)


def _p50(values: list[float]) -> float:
    return round(float(np.percentile(values, 50)), 1)

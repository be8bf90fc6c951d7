"""`cdip bench console`: server time of the staff console's heaviest pages on the reference
network with six weeks of diaries and the synthetic waiting list loaded as open requests,
measured over HTTP against a real uvicorn server on 127.0.0.1 signed in as a clerk.

Pages: the worklist (the first page and pages deep into the list by its keyset cursor,
unfiltered and with each filter), a request's record (rules evaluated, history, audit), a
site's diary for a day. The time is the client's on loopback, so it bounds the server's
from above. Baselines in the same run: the service's /health (the machine's floor), and the
same worklist page read with OFFSET (how a list without a keyset cursor pages), in-process."""

from __future__ import annotations

import os
import random
import re
import time
from datetime import UTC, date, timedelta

import httpx
import numpy as np
from sqlalchemy import Engine, case, func, select
from sqlmodel import col

from booking_api.console.worklist import PAGE_SIZE, PRIORITY_ORDER, WORKLIST_STATES
from booking_api.network.models import ExamType, Site
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from cdip_bench.booking import running_server
from cdip_bench.booking_data import CLERK_NAME, CLERK_PASSWORD, scratch_database
from cdip_bench.console_world import staff_bench_world
from domain.lifecycle import RequestState

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_NEXT = re.compile(r'href="(/staff/worklist\?[^"]*after=[^"]+)"')
FILTERS = ("", "modality=MR", "modality=US&needs_call=yes", "ics=BSOL", "weeks=4",
           "state=waiting", "trust=UHB", "site=UHB-QE", "needs_call=yes")


def console_benchmark(database_url: str = "", scale: float = 0.25, weeks: int = 6,
                      session_share: float = 0.6, worklist_pages: int = 200,
                      deep_pages: int = 20, request_pages: int = 100, diary_days: int = 100,
                      seed: int = 11) -> dict:
    """Worklist, request page and diary day p95 (ms) over HTTP, with the open requests
    loaded, on a scratch SQLite file (default) or a fresh PostgreSQL database
    (--database-url, dropped afterwards). --scale sizes the synthetic waiting list (1.0: the
    whole network's, ~180k requests)."""
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    with scratch_database(database_url or None) as url:
        staff = staff_bench_world(url, weeks=weeks, scale=scale, seed=seed,
                                  session_share=session_share)
        world, network, booked = staff.world, staff.network, staff.booked
        _analyse(world.engine)
        open_requests = _open_requests(world.engine)
        filled = time.perf_counter() - started
        rng = random.Random(seed)
        with running_server(url, 1) as base, httpx.Client(base_url=base, timeout=120) as client:
            _sign_in(client)
            figures = _measure(client, world.engine, world.first_day, weeks, network, rng,
                               worklist_pages, deep_pages, request_pages, diary_days)
        figures["offset_baseline_deep_page_p95_ms"] = _offset_baseline(world.engine, deep_pages)
        world.engine.dispose()
    figures["worklist_deep_p95_vs_offset"] = round(
        figures["offset_baseline_deep_page_p95_ms"] / figures["worklist_deep_page_p95_ms"], 2)
    return {"database": world.engine.dialect.name, "open_requests": open_requests,
            "slots": world.slots, "booked_slots": booked, **figures,
            "fill_s": round(filled, 1), "elapsed_s": round(time.perf_counter() - started, 1),
            "cpus": os.cpu_count(),
            "load_average_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)]}


def _measure(client: httpx.Client, engine: Engine, first_day: date, weeks: int, network,
             rng: random.Random, worklist_pages: int, deep_pages: int, request_pages: int,
             diary_days: int) -> dict:
    for _ in range(3):  # warm-up: templates compiled, connections open
        _timed(client, "/staff/worklist")
    worklist = [_timed(client, f"/staff/worklist?{rng.choice(FILTERS)}")
                for _ in range(worklist_pages)]
    deep, depth = _walk(client, deep_pages)
    ids = _open_ids(engine)
    requests = [_timed(client, f"/staff/requests/{rng.choice(ids)}")
                for _ in range(request_pages)]
    sites = [s.site_id for s in network.sites]
    days = [first_day + timedelta(days=d) for d in range(7 * weeks)]
    diaries = [_timed(client, f"/staff/diary/{rng.choice(sites)}?date="
                              f"{rng.choice(days[:7]).isoformat()}") for _ in range(diary_days)]
    health = [_timed(client, "/health") for _ in range(100)]
    return {"worklist_p95_ms": _p95(worklist), "worklist_p50_ms": _p50(worklist),
            "worklist_deep_page_p95_ms": _p95(deep), "worklist_deep_page_depth": depth,
            "request_page_p95_ms": _p95(requests), "request_page_p50_ms": _p50(requests),
            "diary_day_p95_ms": _p95(diaries), "diary_day_p50_ms": _p50(diaries),
            "health_p95_ms": _p95(health), "worklist_pages": worklist_pages,
            "request_pages": request_pages, "diary_days": diary_days}


def _walk(client: httpx.Client, pages: int) -> tuple[list[float], int]:
    """Follow the worklist's 'next page' links from the first page, timing each."""
    times, path = [], "/staff/worklist"
    for _ in range(pages):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        _check(answer, path)
        found = _NEXT.search(answer.text)
        if not found:
            break
        path = found.group(1).replace("&amp;", "&")
    return times, len(times)


def _offset_baseline(engine: Engine, pages: int) -> float:
    """The same page order read with OFFSET at the depths the walk reached, in-process."""
    rank = case({p.value: i for i, p in enumerate(PRIORITY_ORDER)}, value=Request.priority)
    times = []
    with engine.connect() as connection:
        for page in range(pages):
            query = (select(Request.id, ExamType.name, Site.name, Patient.phone)
                     .join(ExamType, ExamType.code == Request.exam_code)
                     .join(Patient, Patient.id == Request.patient_id)
                     .outerjoin(Site, Site.site_id == Request.site_id)
                     .where(col(Request.state).in_(WORKLIST_STATES))
                     .order_by(rank, func.coalesce(Request.due_date, Request.received_at),
                               Request.id)
                     .offset(page * PAGE_SIZE).limit(PAGE_SIZE + 1))
            started = time.perf_counter()
            connection.execute(query).all()
            times.append((time.perf_counter() - started) * 1000)
    return _p95(times)


def _sign_in(client: httpx.Client) -> None:
    page = client.get("/staff/sign-in")
    token = _CSRF.search(page.text)
    assert token is not None, "the sign-in page has no CSRF token"
    answer = client.post("/staff/sign-in", data={"csrf_token": token.group(1),
                                                 "username": CLERK_NAME,
                                                 "password": CLERK_PASSWORD},
                         follow_redirects=True)
    if answer.url.path != "/staff/worklist":
        raise RuntimeError(f"the bench clerk could not sign in ({answer.status_code})")


def _timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    _check(answer, path)
    return elapsed


def _check(answer: httpx.Response, path: str) -> None:
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} answered {answer.status_code}")


def _open_ids(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(select(Request.id).where(
            col(Request.state).in_(WORKLIST_STATES))))


def _open_requests(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Request).where(
            col(Request.state).in_(WORKLIST_STATES))) or 0


def _analyse(engine: Engine) -> None:
    """Planner statistics, as autovacuum (PostgreSQL) or `ANALYZE` after a bulk load would."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ANALYZE")


def _p95(values: list[float]) -> float:
    return round(float(np.percentile(values, 95)), 1)


def _p50(values: list[float]) -> float:
    return round(float(np.percentile(values, 50)), 1)


__all__ = ["UTC", "RequestState", "console_benchmark"]

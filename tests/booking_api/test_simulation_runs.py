"""What-if runs for managers: started through the API as a background job (a malformed
scenario refused naming its key, keeping nothing), run from the live database's diary,
waiting list and demand history, with their progress and figures kept. SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dask
from dask.distributed import Client, LocalCluster
from sqlalchemy import func, select

from booking_api.access.models import AccountRole
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.diary.history import read_weekly_history, store_weekly_history
from booking_api.diary.services import write_week
from booking_api.jobs.models import Job
from booking_api.simulation.flows import run_simulation
from booking_api.simulation.models import SimulationRun, SimulationRunCreate
from booking_api.simulation.read_models import compare_runs
from booking_api.simulation.services import SIMULATION_JOB, get_run, start_run
from booking_api.simulation.start_state import read_start_state
from domain.session_templates import session_templates
from domain.vocabulary import SessionPeriod
from optimiser.problem import RoomSession
from tests.booking_api.access_support import (
    add_staff,
    clerk,
    client,
    clock,
    engine,
    migrated_url,
    shared_database,
    staff_headers,
)
from tests.booking_api.outbox_support import database_of
from tests.booking_api.test_planning_demand import write_export

__all__ = ["clerk", "client", "clock", "engine", "migrated_url", "shared_database"]

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 11, 23)  # the week after the export's last
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ACTOR = Actor("manager:mo", Channel.CLERK, role="manager")
SCENARIO = "name: network choice\npolicies: {booking: network, backfill: true}\n"


def _count(engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(SimulationRun))


def test_a_manager_starts_a_run_as_a_job_and_a_clerk_may_not(engine, client, clerk, clock):
    add_staff(engine, "mo.manager", AccountRole.MANAGER)
    manager = staff_headers(client, "mo.manager")
    body = {"scenario_yaml": SCENARIO, "weeks": 8, "replications": 2, "warmup_weeks": 2}
    refused = client.post("/api/simulations", json=body,
                          headers={**clerk, "Idempotency-Key": "c1"})
    started = client.post("/api/simulations", json=body,
                          headers={**manager, "Idempotency-Key": "m1"})
    assert refused.status_code == 403
    assert started.status_code == 202, started.text
    assert started.json()["state"] == "queued" and started.json()["name"] == "network choice"
    with transaction(engine) as session:
        kinds = session.scalars(select(Job.kind)).all()
    assert SIMULATION_JOB in kinds
    watched = client.get(f"/api/simulations/{started.json()['id']}", headers=manager)
    assert watched.json()["progress_total"] == 4


def test_a_malformed_scenario_is_refused_naming_the_key_and_nothing_is_kept(
        engine, client, clock):
    add_staff(engine, "mo.manager", AccountRole.MANAGER)
    manager = staff_headers(client, "mo.manager")
    body = {"scenario_yaml": "name: x\nchanges:\n - add_scanner: {site: NOWHERE, "
                             "modality: MR}\n"}
    response = client.post("/api/simulations", json=body,
                           headers={**manager, "Idempotency-Key": "bad"})
    assert response.status_code == 400
    assert "changes[0].add_scanner.site" in response.text
    assert _count(engine) == 0


def _queued(engine, network, yaml: str = SCENARIO) -> int:
    with transaction(engine) as session:
        run = start_run(session, ACTOR, SimulationRunCreate(
            scenario_yaml=yaml, weeks=6, replications=2, warmup_weeks=2), network, MONDAY, NOW)
        return run.id


def test_a_run_without_a_diary_fails_saying_what_to_do(one_slot, engine, tiny_network):
    run_id = _queued(engine, tiny_network)
    run_simulation(database_of(engine), run_id, NOW, zone=LONDON, network=tiny_network)
    with transaction(engine) as session:
        run = get_run(session, run_id)
        assert run.state == "failed" and "cdip diary build" in run.error


def _live_service(engine, tiny_network, tmp_path) -> None:
    """The export's history imported and a week of X-ray lists written for MONDAY."""
    with transaction(engine) as session:
        store_weekly_history(session, ACTOR, read_weekly_history(write_export(tmp_path),
                                                                 tiny_network))
        sessions = [RoomSession(room, site, MONDAY + timedelta(days=d), period, "XR_PLAIN_GEN")
                    for room, site in (("S1-XR1", "S1"), ("S2-XR1", "S2")) for d in range(5)
                    for period in (SessionPeriod.MORNING, SessionPeriod.AFTERNOON)]
        write_week(session, MONDAY, sessions, session_templates(),
                   {r.room_id: r.site_id for r in tiny_network.rooms}, LONDON, NOW)


def test_the_start_state_is_the_live_diary_waiting_list_and_forecast(
        one_slot, engine, tiny_network, tmp_path):
    _live_service(engine, tiny_network, tmp_path)
    with transaction(engine) as session:
        start = read_start_state(session, tiny_network, session_templates(), LONDON, MONDAY)
    assert start.monday == MONDAY and len(start.diary) == 20
    assert len(start.waiting) == 2  # the fixture's appointable chest X-rays
    assert sum(row.expected_count for row in start.demand) > 0


def test_a_run_from_the_live_service_finishes_with_its_figures(
        one_slot, engine, tiny_network, tmp_path):
    _live_service(engine, tiny_network, tmp_path)
    run_id = _queued(engine, tiny_network)
    run_simulation(database_of(engine), run_id, NOW, zone=LONDON, network=tiny_network)
    with transaction(engine) as session:
        run = get_run(session, run_id)
        assert run.state == "done", run.error
        assert run.progress_done == run.progress_total == 4
        measures = {(row["measure"], row["group"]) for row in run.figures}
    assert ("share_6_plus_weeks", "network") in measures
    assert ("utilisation", "modality:XR") in measures


def test_two_finished_runs_are_compared_side_by_side(one_slot, engine, tiny_network,
                                                     tmp_path):
    _live_service(engine, tiny_network, tmp_path)
    first = _queued(engine, tiny_network)
    second = _queued(engine, tiny_network, "name: backfill only\npolicies: {backfill: true}\n")
    for run_id in (first, second):
        run_simulation(database_of(engine), run_id, NOW, zone=LONDON, network=tiny_network)
    rows = {row["measure"]: row for row in compare_runs(database_of(engine), first, second)}
    assert rows["utilisation"].keys() >= {"left_mean", "left_lo", "right_mean", "right_hi"}
    assert rows["attended"]["left_mean"] > 0 and rows["attended"]["right_mean"] > 0


def test_a_run_whose_dask_worker_dies_fails_saying_so_instead_of_staying_running(
        one_slot, engine, tiny_network, tmp_path):
    _live_service(engine, tiny_network, tmp_path)
    with transaction(engine) as session:
        run_id = start_run(session, ACTOR, SimulationRunCreate(
            scenario_yaml=SCENARIO, weeks=260, replications=2, warmup_weeks=2),
            tiny_network, MONDAY, NOW).id
    with (dask.config.set({"distributed.scheduler.allowed-failures": 0}),
          LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                       dashboard_address=None) as cluster,
          Client(cluster) as watcher):
        runner = threading.Thread(target=run_simulation, args=(
            database_of(engine), run_id, NOW), kwargs={
            "zone": LONDON, "network": tiny_network, "scheduler": cluster.scheduler_address})
        runner.start()
        deadline = time.monotonic() + 120
        while not any(watcher.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in watcher.run(os.getpid).values():
            os.kill(pid, signal.SIGKILL)
        runner.join(timeout=180)
    with transaction(engine) as session:
        run = get_run(session, run_id)
    assert run.state == "failed"
    assert "KilledWorker" in run.error and "worker died" in run.error

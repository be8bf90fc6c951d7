"""What the job runner runs, composed above every context (beside `routers`): the same list
inside `cdip serve` (the embedded default) and in each `cdip worker`.

Periodic, once per period across all processes: releasing lapsed holds, the daily
re-evaluation of open requests, purging expired idempotency keys, tidying finished jobs.
Queues: messages to patients (the outbox, when a provider is configured), offers of freed
slots (`backfill.delivery`), status messages to referrers' systems (`interop.delivery`), and
queued jobs (DNA-risk scoring of bookings, when a saved model is configured; backfill waves
of freed slots)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete

from booking_api.appointments.hold_sweeper import sweep_lapsed_holds
from booking_api.backfill.delivery import OfferSender
from booking_api.backfill.flows import run_wave
from booking_api.backfill.policy import OfferPolicy
from booking_api.backfill.trigger import BACKFILL_JOB, WAVE_JOB
from booking_api.core.clock import Clock
from booking_api.core.config import Settings
from booking_api.core.db import Database
from booking_api.idempotency.services import purge_expired_keys
from booking_api.interop.delivery import DeliveryPolicy, claim_outbound, send_claimed
from booking_api.jobs.backoff import RetryPolicy
from booking_api.jobs.leases import runner_name
from booking_api.jobs.models import Job, JobState, PeriodicRun
from booking_api.jobs.periodic import PeriodicJob
from booking_api.jobs.queue import JobHandler, claim_jobs, run_job
from booking_api.jobs.runner import Drainer, JobRunner
from booking_api.outbox.delivery import Outbox
from booking_api.outbox.dna_risk import score_and_remind
from booking_api.outbox.enqueue import DNA_RISK_JOB
from booking_api.outbox.policy import MessagePolicy
from booking_api.outbox.providers import Providers, providers_from_settings
from booking_api.requests.flows import reevaluate_open_requests
from booking_api.simulation.flows import run_simulation
from booking_api.simulation.services import SIMULATION_JOB

KEEP_FINISHED = timedelta(days=7)
WORKER_APPLICATION_NAME = "cdip-worker"
"""PostgreSQL application_name of `cdip worker` connections (pg_stat_activity shows it)."""
MESSAGES = "messages"
STATUS_OUT = "status_out"
JOBS = "jobs"
OFFERS = "offers"
JOB_POLL_S = 0.5
"""How often an idle runner looks for queued jobs. A job queued in this process rings the
doorbell and runs at once; one queued by another process (the API's cancellation, a
`cdip worker` running the backfill) waits for the poll, and a freed slot's first offer is
due within 2 s of the cancellation."""


def background_runner(database: Database, settings: Settings, clock: Clock,
                      policy: MessagePolicy, *, providers: Providers | None = None,
                      role: str = "runner") -> JobRunner:
    """A runner (not started) of everything the settings turn on. `clock` is read at each
    run (tests move it); `policy` is the one the database's outbox writes with (its doorbell
    wakes the message queue at once)."""
    owner = runner_name(role)
    providers = providers if providers is not None else providers_from_settings(settings)
    outbox = Outbox(database, providers, clock, RetryPolicy(
        base=timedelta(seconds=settings.message_retry_base_seconds),
        max_attempts=settings.message_max_attempts),
        timedelta(seconds=settings.message_lease_seconds), owner,
        quiet_hours=policy.quiet_hours)
    handlers = _job_handlers(settings, policy)
    drainers = []
    if providers.channels:
        drainers.append(Drainer(MESSAGES, outbox.claim, outbox.deliver,
                                concurrency=settings.message_concurrency, idle_poll_s=0.5))
        if settings.backfill_enabled:
            offers = OfferSender(database, providers, clock, settings.secret_key, owner,
                                 quiet_hours=policy.quiet_hours)
            drainers.append(Drainer(OFFERS, offers.claim, offers.deliver,
                                    concurrency=settings.message_concurrency, idle_poll_s=0.5))
    if settings.send_status_out:
        status = DeliveryPolicy()
        drainers.append(Drainer(
            STATUS_OUT, lambda n: claim_outbound(database, owner, clock(), n, status),
            lambda item: send_claimed(database, item, clock, status), concurrency=2,
            idle_poll_s=1.0))
    if handlers:
        retry = RetryPolicy(base=timedelta(seconds=30), max_attempts=5)
        drainers.append(Drainer(
            JOBS, lambda n: claim_jobs(database, owner, clock(), n, frozenset(handlers)),
            lambda job: run_job(database, handlers, job, clock, retry),
            idle_poll_s=JOB_POLL_S))
    runner = JobRunner(database, _periodic_jobs(database, settings, clock), drainers, owner)
    for woken in (MESSAGES, OFFERS, JOBS):
        if any(drainer.name == woken for drainer in drainers):
            policy.doorbell.listen(lambda name=woken: runner.wake(name))
    return runner


def _periodic_jobs(database: Database, settings: Settings, clock: Clock) -> list[PeriodicJob]:
    jobs = [PeriodicJob("idempotency_purge", timedelta(hours=1),
                        lambda: purge_expired_keys(database.engine, clock())),
            PeriodicJob("job_tidy", timedelta(days=1),
                        lambda: _tidy_finished(database, clock), offset=timedelta(hours=3))]
    if settings.hold_sweep_seconds > 0:
        every = timedelta(seconds=settings.hold_sweep_seconds)
        jobs.append(PeriodicJob("hold_sweep", every,
                                lambda: sweep_lapsed_holds(database.sessions, clock()),
                                lease=max(every * 4, timedelta(minutes=1))))
    if settings.rules_sweep_hour_utc is not None:
        jobs.append(PeriodicJob("rules_sweep", timedelta(days=1), lambda: _rules_sweep(database),
                                offset=timedelta(hours=settings.rules_sweep_hour_utc),
                                lease=timedelta(hours=1)))
    return jobs


def _job_handlers(settings: Settings, policy: MessagePolicy) -> dict[str, JobHandler]:
    handlers: dict[str, JobHandler] = {}
    model_path = settings.dna_model_path
    if model_path is not None:
        def score(db: Database, payload: dict[str, Any], _now: Any) -> None:
            score_and_remind(db, model_path, policy, int(payload["appointment_id"]))
        handlers[DNA_RISK_JOB] = score
    if settings.backfill_enabled:
        offers = OfferPolicy.from_settings(settings)

        def wave(db: Database, payload: dict[str, Any], now: Any) -> None:
            run_wave(db, int(payload["freed_slot_id"]), now, offers)
        handlers[BACKFILL_JOB] = handlers[WAVE_JOB] = wave

    def simulation(db: Database, payload: dict[str, Any], now: Any) -> None:
        run_simulation(db, int(payload["run_id"]), now, zone=settings.zone,
                       scheduler=settings.simulation_scheduler,
                       workers=settings.simulation_workers)
    handlers[SIMULATION_JOB] = simulation
    return handlers


def _rules_sweep(database: Database) -> dict[str, int]:
    with database.transaction() as session:
        return reevaluate_open_requests(session)


def _tidy_finished(database: Database, clock: Clock) -> int:
    """Forget finished jobs and periodic runs older than a week (dead jobs are kept)."""
    before = clock() - KEEP_FINISHED
    with database.transaction() as session:
        jobs = session.execute(delete(Job).where(Job.state == JobState.DONE,
                                                 Job.updated_at < before)).rowcount
        runs = session.execute(delete(PeriodicRun).where(PeriodicRun.started_at < before)
                               ).rowcount
    return (jobs or 0) + (runs or 0)

"""`cdip bench backfill`: a month of the chosen sites' diaries with cancellations drawn from
the synthetic history's rates and lead times, and patients answering offers by the
documented response model (`simulations.offer_response`), played by
`simulations.backfill_month` against the real service: cancellations through the booking
service, backfill jobs claimed from the job queue and run, offer texts and emails sent
through the real Twilio client to the fake Twilio and over SMTP to aiosmtpd, answers through
the acceptance flow. The same month is played three times from one copy of the world: with
backfill (the ranked waves), with backfill off (the baseline: what the network does now) and
with the naive policy (offer every candidate at once, first come first served).

Figures are counted afterwards in SQL: fill rates over freed slots, offers per fill, cascade
depth, double bookings (two active appointments on a slot, or overlapping in a room) and rule
violations of the bookings backfill made. `p95_cancel_to_first_offer_s` is wall-clock time
from the start of a cancellation's transaction to the provider accepting the slot's first
offer message, for slots offered at once: a slot freed in the quiet hours is offered when
they end, and the wall-clock time to that (the simulation's nights pass in seconds) measures
the simulation, not the service; those slots are counted apart
(`first_offer_held_for_quiet_hours`). The job runner's doorbell is replaced by running the
due work straight after the change.

The scope (sites, days) is a parameter: the default is a month of one CDC, the largest the
three policies play through in a few minutes here (`backfill_world.DEFAULT_SITES`); `--sites
all` is the whole network's month, hours on two cores. `--seeds 3` plays three seeds and
reports the medians the issue's targets are set on."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text

from booking_api.appointments.services import cancel_appointment
from booking_api.audit.services import Actor
from booking_api.backfill.delivery import OfferSender
from booking_api.backfill.flows import accept_offer, decline_offer, run_wave
from booking_api.backfill.policy import OfferPolicy
from booking_api.backfill.trigger import BACKFILL_JOB, WAVE_JOB
from booking_api.core.channel import Channel
from booking_api.core.config import Settings
from booking_api.core.db import Database
from booking_api.database import open_database
from booking_api.jobs.backoff import RetryPolicy
from booking_api.jobs.queue import claim_jobs, run_job
from booking_api.outbox.providers import providers_from_settings
from cdip_bench.backfill_sql import counted_in_sql
from cdip_bench.backfill_world import DEFAULT_SITES, BackfillWorld, build_world
from domain.geography import haversine_km
from domain.vocabulary import Priority
from fake_providers.smtp_catcher import running_smtp_catcher
from fake_providers.twilio_server import running_fake_twilio
from simulations.backfill_month import (
    Cancellation,
    SentOffer,
    draw_cancellations,
    simulate_month,
)
from simulations.offer_response import Offer, ResponseModel

ACCOUNT_SID = "AC" + "bac0f111" * 4
AUTH_TOKEN = "bench-backfill-token"
SECRET = "bench-backfill-secret-key-0123456789abcdef"
PATIENT = Actor("patient:bench", Channel.PORTAL, role="patient")
CLERK = Actor("clerk:bench", Channel.CLERK, role="clerk")


def backfill_benchmark(seed: int = 1, sites: str = DEFAULT_SITES, days: int = 28,
                       utilisation: float = 0.85, waiting_share: float = 0.3,
                       short_notice_share: float = 0.4, wave_size: int = 3,
                       seeds: int = 1) -> dict[str, Any]:
    """The month with backfill, without it and with the naive policy (see the module); with
    `seeds` > 1, the month for seeds `seed`, `seed + 1`, ... and the median of each figure
    (the issue's targets are medians over three seeds), zero-targets summed."""
    if not 1 <= seeds <= 10:
        raise ValueError(f"seeds: {seeds} is not between 1 and 10")
    runs = [_one_seed(s, sites, days, utilisation, waiting_share, short_notice_share,
                      wave_size) for s in range(seed, seed + seeds)]
    if seeds == 1:
        return runs[0]
    medians = {key: statistics.median(values) for key in MEDIANS
               if (values := [run[key] for run in runs if run.get(key) is not None])}
    totals = {key: sum(run[key] for run in runs) for key in SUMMED}
    return {"seeds": [run["seed"] for run in runs], "sites": sites, "days": days,
            "median_over_seeds": medians, "total_over_seeds": totals, "per_seed": runs}


MEDIANS = ("freed_slots", "fill_rate_48h_plus", "fill_rate_all", "median_days_sooner",
           "p95_cancel_to_first_offer_s", "offers_per_fill", "max_cascade_depth",
           "fill_rate_baseline", "naive_fill_rate_48h_plus", "naive_offers_per_fill",
           "naive_p95_cancel_to_first_offer_s", "offers_per_fill_vs_naive")
SUMMED = ("double_bookings", "rule_violations", "naive_double_bookings",
          "naive_rule_violations", "baseline_double_bookings")


def _one_seed(seed: int, sites: str, days: int, utilisation: float, waiting_share: float,
              short_notice_share: float, wave_size: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="cdip-bench-backfill-"))
    try:
        original = folder / "world.sqlite3"
        started = time.perf_counter()
        world = build_world(f"sqlite:///{original}", sites=sites, days=days,
                            utilisation=utilisation, waiting_share=waiting_share,
                            short_notice_share=short_notice_share, seed=seed)
        built_s = time.perf_counter() - started
        cancellations = draw_cancellations(world.bookings, world.window_start,
                                           np.random.default_rng(seed))
        runs = {}
        for name, offers in (("backfill", OfferPolicy(wave_size=wave_size)),
                             ("naive", OfferPolicy(everyone_at_once=True)),
                             ("baseline", None)):
            copy = folder / f"{name}.sqlite3"
            shutil.copyfile(original, copy)
            runs[name] = _play(f"sqlite:///{copy}", world, cancellations, offers, seed)
        main, naive, baseline = runs["backfill"], runs["naive"], runs["baseline"]
        return {
            "seed": seed, "sites": sites, "days": days, "slots": world.slots,
            "bookings": len(world.bookings), "waiting_list": world.waiting,
            "cancellations": len(cancellations),
            **{key: main[key] for key in (
                "freed_slots", "fill_rate_48h_plus", "fill_rate_all", "median_days_sooner",
                "p95_cancel_to_first_offer_s", "offers_per_fill", "max_cascade_depth",
                "double_bookings", "rule_violations", "offers_sent", "answers", "run_s",
                "freed_48h_plus", "first_offers_timed", "first_offer_held_for_quiet_hours",
                "rule_violations_by_check")},
            "fill_rate_baseline": baseline["fill_rate_all"],
            "fill_rate_48h_plus_baseline": baseline["fill_rate_48h_plus"],
            "naive_fill_rate_48h_plus": naive["fill_rate_48h_plus"],
            "naive_fill_rate_all": naive["fill_rate_all"],
            "naive_offers_per_fill": naive["offers_per_fill"],
            "naive_p95_cancel_to_first_offer_s": naive["p95_cancel_to_first_offer_s"],
            "naive_double_bookings": naive["double_bookings"],
            "naive_rule_violations": naive["rule_violations"],
            "offers_per_fill_vs_naive": _ratio(main["offers_per_fill"],
                                               naive["offers_per_fill"]),
            "baseline_double_bookings": baseline["double_bookings"],
            "world_build_s": round(built_s, 1),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _play(url: str, world: BackfillWorld, cancellations: list[Cancellation],
          offers: OfferPolicy | None, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    db = open_database(url, offers=offers)
    with running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN) as twilio, \
            tempfile.TemporaryDirectory() as mail, \
            running_smtp_catcher(Path(mail) / "maildir") as smtp:
        settings = Settings(
            database_url=url, environment="test", public_base_url="http://127.0.0.1:9",
            twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
            twilio_from_number="+447700900999", twilio_api_base_url=twilio.base_url,
            sms_fictional_numbers=True, smtp_host=smtp.host, smtp_port=smtp.port,
            secret_key=SECRET)
        service = RealService(db, settings, offers)
        log = simulate_month(service, cancellations, ResponseModel(),
                             np.random.default_rng(seed + 1), world.window_end)
    engine = create_engine(url)
    try:
        figures = counted_in_sql(engine)
    finally:
        engine.dispose()
        db.dispose()
    latencies = sorted(service.first_offer_s.values())
    figures |= {"p95_cancel_to_first_offer_s": round(float(np.percentile(latencies, 95)), 3)
                if latencies else None,
                "first_offers_timed": len(latencies),
                "offers_sent": log.offers_sent, "answers": log.answers,
                "run_s": round(time.perf_counter() - started, 1)}
    return figures


@dataclass
class RealService:
    """`simulations.backfill_month.BackfillService` over the real booking service."""

    db: Database
    settings: Settings
    offers: OfferPolicy | None
    now: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))
    reported: set[int] = field(default_factory=set)
    cancelled_at: dict[int, float] = field(default_factory=dict)
    """Freed slot id → perf_counter at the start of the cancellation that freed it."""
    first_offer_s: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sender = OfferSender(self.db, providers_from_settings(self.settings),
                                  lambda: self.now, SECRET, "bench")
        self.retry = RetryPolicy(base=timedelta(seconds=30), max_attempts=5)
        policy = self.offers

        def wave(db: Database, payload: dict[str, Any], now: datetime) -> None:
            run_wave(db, int(payload["freed_slot_id"]), now, policy)
        self.handlers = {BACKFILL_JOB: wave, WAVE_JOB: wave}

    def cancel(self, cancellation: Cancellation) -> None:
        """Cancel the booking the cancellation was drawn for, or (its patient having taken
        an earlier offer since) the booking that replaced it; nothing if neither stands."""
        self.now = cancellation.at
        started = time.perf_counter()
        with self.db.transaction() as session:
            current = session.scalar(text(
                "SELECT b.id FROM appointment a JOIN appointment b ON b.request_id = "
                "a.request_id WHERE a.id = :a AND b.state = 'booked' AND b.start_at > :now "
                "ORDER BY b.id DESC LIMIT 1"),
                {"a": cancellation.appointment_id, "now": cancellation.at.replace(tzinfo=None)})
            if current is None:
                return
            appointment = cancel_appointment(
                session, PATIENT if cancellation.by_patient else CLERK, current,
                "cannot come" if cancellation.by_patient else "hospital cancelled",
                now=cancellation.at, by_service=not cancellation.by_patient)
            slot_id = appointment.slot_id
        if self.offers is None:
            return
        with self.db.reading() as session:
            freed = session.scalar(text("SELECT id, state FROM freed_slot WHERE slot_id = :s "
                                        "ORDER BY id DESC LIMIT 1"), {"s": slot_id})
        if freed is not None:
            self.cancelled_at[freed] = started
        self.run_until(cancellation.at, report=False)
        self.cancelled_at.pop(freed, None)  # not offered at once: held or for the clerks

    def run_until(self, at: datetime, report: bool = True) -> list[SentOffer]:
        """Run the due jobs and send the due messages, as the runner's drainers would (one
        read says whether anything is due: most events find nothing to do)."""
        since, self.now = self.now, max(self.now, at)
        if self.offers is None:
            return []
        while (due := self.next_due()) is not None and due <= self.now:
            jobs = claim_jobs(self.db, "bench", self.now, 20,
                              frozenset({BACKFILL_JOB, WAVE_JOB}))
            for job in jobs:
                run_job(self.db, self.handlers, job, lambda: self.now, self.retry)
            claimed = self.sender.claim(50)
            for message_id in claimed:
                if self.sender.deliver(message_id) == "sent" and self.cancelled_at:
                    self._note_first(message_id)
            if not jobs and not claimed:
                break
        return self._new_offers(since) if report else []

    def answer(self, offer_id: int, accept: bool, at: datetime) -> None:
        self.now = max(self.now, at)
        if accept:
            accept_offer(self.db, offer_id, channel="sms", now=at)
        else:
            decline_offer(self.db, offer_id, channel="sms", now=at, policy=self.offers)

    def next_due(self) -> datetime | None:
        """The earliest queued backfill job or offer message still to run."""
        if self.offers is None:
            return None
        with self.db.reading() as session:
            due = session.execute(text(
                "SELECT min(run_at) FROM job WHERE state = 'queued' AND kind IN (:a, :b) "
                "UNION ALL SELECT min(run_at) FROM offer_message WHERE state = 'pending'"),
                {"a": BACKFILL_JOB, "b": WAVE_JOB}).scalars().all()
        moments = [_aware(moment) for moment in due if moment is not None]
        return min(moments, default=None)

    def _note_first(self, message_id: int) -> None:
        with self.db.reading() as session:
            freed_id = session.scalar(text(
                "SELECT o.freed_slot_id FROM offer_message m JOIN backfill_offer o "
                "ON o.id = m.offer_id WHERE m.id = :m"), {"m": message_id})
        if freed_id in self.cancelled_at and freed_id not in self.first_offer_s:
            self.first_offer_s[freed_id] = time.perf_counter() - self.cancelled_at[freed_id]

    def _new_offers(self, since: datetime) -> list[SentOffer]:
        with self.db.reading() as session:
            rows = session.execute(text(
                "SELECT o.id, o.sent_at, o.expires_at, o.days_sooner, r.priority, "
                "r.received_at, f.start_at, a.lat AS alat, a.lon AS alon, s.lat AS slat, "
                "s.lon AS slon FROM backfill_offer o JOIN freed_slot f ON f.id = o.freed_slot_id "
                "JOIN request r ON r.id = o.request_id JOIN patient p ON p.id = o.patient_id "
                "LEFT JOIN demand_area a ON a.area_id = p.area_id "
                "JOIN site s ON s.site_id = f.site_id "
                "WHERE o.sent_at >= :since AND o.state = 'offered'"),
                {"since": since.replace(tzinfo=None)}).all()
        offers = []
        for row in rows:
            if row.id in self.reported:
                continue
            self.reported.add(row.id)
            sent_at, expires = _aware(row.sent_at), _aware(row.expires_at)
            km = (float(haversine_km(row.alat, row.alon, row.slat, row.slon))
                  if row.alat is not None else 20.0)
            offers.append(SentOffer(row.id, Offer(
                sent_at=sent_at, slot_start=_aware(row.start_at), distance_km=km,
                waited_days=(sent_at - _aware(row.received_at)).days,
                priority=Priority(row.priority), days_sooner=row.days_sooner or 0), expires))
        return offers


def _aware(moment: Any) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None

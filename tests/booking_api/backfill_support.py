"""What the backfill tests share: the booking world with patients who take texts and email,
a `Database` with the backfill hook, a movable clock, and helpers to book, cancel, run the
queued backfill jobs and read the trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from booking_api.appointments.services import book_slot, cancel_appointment
from booking_api.audit.services import Actor
from booking_api.backfill.flows import run_wave
from booking_api.backfill.models import BackfillOffer, FreedSlot, OfferMessage
from booking_api.backfill.policy import OfferPolicy
from booking_api.backfill.trigger import BACKFILL_JOB, WAVE_JOB
from booking_api.core.channel import Channel
from booking_api.core.db import Database
from booking_api.jobs.models import Job, JobState
from booking_api.patients.models import ContactPreference
from notifications.quiet_hours import QuietHours
from tests.booking_api.booking_world import CLERK, NOW, World
from tests.booking_api.outbox_support import database_of, email_of, phone_of, set_contact

NO_QUIET = QuietHours(starts=QuietHours().ends, ends=QuietHours().ends)
PATIENT_PORTAL = Channel.PORTAL


@dataclass
class Backfill:
    world: World
    db: Database
    policy: OfferPolicy = field(default_factory=lambda: OfferPolicy(quiet_hours=NO_QUIET))
    now: datetime = NOW

    def book(self, patient: int, slot_id: int) -> int:
        with self.db.transaction() as session:
            return book_slot(session, CLERK, self.world.requests[patient], slot_id,
                             now=self.now).id

    def cancel(self, appointment_id: int, actor: Actor = CLERK) -> None:
        with self.db.transaction() as session:
            cancel_appointment(session, actor, appointment_id, "cannot come", now=self.now)

    def run_jobs(self, until: datetime | None = None) -> int:
        """Run every backfill job due by `until` (default now), oldest first; how many."""
        until = until or self.now
        ran = 0
        while True:
            with self.db.transaction() as session:
                job = session.scalar(select(Job).where(
                    Job.kind.in_([BACKFILL_JOB, WAVE_JOB]), Job.state == JobState.QUEUED,
                    Job.run_at <= until).order_by(Job.run_at, Job.id).limit(1))
                if job is None:
                    return ran
                job.state = JobState.DONE
                freed_id = int(job.payload["freed_slot_id"])
            run_wave(self.db, freed_id, max(self.now, until), self.policy)
            ran += 1

    def freed(self) -> list[FreedSlot]:
        with self.db.reading() as session:
            return list(session.scalars(select(FreedSlot).order_by(FreedSlot.id)))

    def offers(self, freed_id: int | None = None) -> list[BackfillOffer]:
        with self.db.reading() as session:
            query = select(BackfillOffer).order_by(BackfillOffer.position, BackfillOffer.id)
            if freed_id is not None:
                query = query.where(BackfillOffer.freed_slot_id == freed_id)
            return list(session.scalars(query))

    def messages(self) -> list[OfferMessage]:
        with self.db.reading() as session:
            return list(session.scalars(select(OfferMessage).order_by(OfferMessage.id)))

    def jobs(self) -> list[Job]:
        with self.db.reading() as session:
            return list(session.scalars(select(Job).order_by(Job.id)))


def reachable(engine: Engine, world: World) -> None:
    """Every patient of the world takes texts and email."""
    for index, patient_id in enumerate(world.patients):
        set_contact(engine, patient_id, ContactPreference.BOTH, phone=phone_of(index),
                    email=email_of(index))


def backfill_of(engine: Engine, world: World, **policy) -> Backfill:
    reachable(engine, world)
    return Backfill(world, database_of(engine),
                    OfferPolicy(quiet_hours=policy.pop("quiet_hours", NO_QUIET), **policy))


def later(by: timedelta) -> datetime:
    return NOW + by

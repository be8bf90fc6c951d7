"""The extra reminder for patients at high risk of not attending: with a model saved as
`cdip dna evaluate --save` saves it, a booking queues a scoring job in its own transaction;
the job scores it from what was known on the booking day and adds the high-risk reminder
when the score is high, and nothing when it is low."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import insert, select

from booking_api.appointments import services
from booking_api.appointments.models import Appointment
from booking_api.core.channel import Channel
from booking_api.core.db import Database
from booking_api.database import open_database
from booking_api.jobs.models import Job
from booking_api.outbox.dna_risk import score_and_remind
from booking_api.outbox.enqueue import DNA_RISK_JOB
from booking_api.outbox.models import OutboxMessage
from booking_api.outbox.policy import MessagePolicy
from domain.lifecycle import AppointmentState
from forecasting.dna_features import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES
from forecasting.dna_model import fit_dna_model, save_model
from tests.booking_api.booking_world import CLERK, NOW, booking_engine, migrated_engine
from tests.booking_api.outbox_support import Messaging, messaging

__all__ = ["booking_engine", "messaging", "migrated_engine"]
POLICY = MessagePolicy(score_dna_risk=True)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real logistic DNA model, fitted where missing before means missing again."""
    rng = np.random.default_rng(3)
    rows = 4000
    prior_dna = rng.integers(0, 4, rows).astype(float)
    frame = pd.DataFrame({name: rng.uniform(0, 10, rows) for name in NUMERIC_FEATURES})
    frame["prior_dna"] = prior_dna
    for name in CATEGORICAL_FEATURES:
        frame[name] = rng.choice(["a", "b"], rows)
    frame["dna"] = (rng.random(rows) < np.where(prior_dna >= 2, 0.7, 0.02)).astype(float)
    frame["start"] = pd.date_range("2025-01-01", periods=rows, freq="h")
    fitted = fit_dna_model("logistic", frame[[*FEATURES, "dna", "start"]])
    return save_model(fitted, tmp_path_factory.mktemp("model"), {"test": True})


@pytest.fixture
def scoring(messaging: Messaging) -> Iterator[Database]:
    """The same database, opened with a policy that scores bookings."""
    db = open_database(messaging.world.engine.url.render_as_string(hide_password=False),
                       messages=POLICY)
    yield db
    db.dispose()


def _missed_before(m: Messaging, patient: int, times: int) -> None:
    with m.db.transaction() as session:
        session.execute(insert(Appointment), [{
            "request_id": m.world.requests[patient], "slot_id": m.world.slots["S2-XR1"][0],
            "patient_id": m.world.patients[patient], "channel": Channel.CLERK,
            "state": AppointmentState.DNA, "room_id": "S2-XR1",
            "start_at": NOW - timedelta(days=30 * (n + 1)),
            "end_at": NOW - timedelta(days=30 * (n + 1)) + timedelta(minutes=10),
            "created_at": NOW - timedelta(days=60 * (n + 1)),
            "updated_at": NOW} for n in range(times)])


def _book(db: Database, m: Messaging, patient: int) -> int:
    with db.transaction() as session:
        return services.book_slot(session, CLERK, m.world.requests[patient],
                                  m.world.slots["S1-XR1"][patient], now=NOW).id


def _extra_reminders(m: Messaging, appointment: int) -> list[tuple[str, datetime]]:
    with m.db.reading() as session:
        return sorted(session.execute(select(OutboxMessage.event_key, OutboxMessage.due_at)
                                      .where(OutboxMessage.appointment_id == appointment,
                                             OutboxMessage.event == "high_risk_reminder")))


def test_a_booking_queues_its_scoring_job_in_its_own_transaction(
        messaging: Messaging, scoring: Database) -> None:
    appointment = _book(scoring, messaging, 0)

    with messaging.db.reading() as session:
        [job] = session.scalars(select(Job)).all()
    assert (job.kind, job.payload) == (DNA_RISK_JOB, {"appointment_id": appointment})


def test_a_patient_who_missed_before_gets_the_extra_reminder(
        messaging: Messaging, scoring: Database, saved_model: Path) -> None:
    _missed_before(messaging, 0, 3)
    appointment = _book(scoring, messaging, 0)

    probability = score_and_remind(messaging.db, saved_model, POLICY, appointment)

    assert probability is not None and probability >= 0.10
    extra = _extra_reminders(messaging, appointment)
    assert extra and {key for key, _due in extra} == {"high_risk_reminder-1d"}
    assert {due for _key, due in extra} == {datetime(2026, 12, 6, 10, 0, tzinfo=UTC)}


def test_a_patient_at_low_risk_gets_no_extra_reminder(
        messaging: Messaging, scoring: Database, saved_model: Path) -> None:
    appointment = _book(scoring, messaging, 1)

    probability = score_and_remind(messaging.db, saved_model, POLICY, appointment)

    assert probability is not None and probability < 0.10
    assert _extra_reminders(messaging, appointment) == []

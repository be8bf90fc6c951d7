"""The extra reminder for patients at high risk of not attending: a queued job per booking
(written with the booking, `enqueue`) scores it with the model saved by `cdip dna evaluate
--save`, from what was known on the day it was booked (the features of
`forecasting.dna_features`), and adds the high-risk reminder rows when the score reaches the
policy's threshold. It runs off the booking's hot path; a failed scoring is retried like any
job, and the reminder's dedupe key makes a second run harmless."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from booking_api.appointments.changes import AppointmentChange, AppointmentChanged
from booking_api.appointments.models import Appointment
from booking_api.core.channel import Channel
from booking_api.core.db import Database
from booking_api.network.models import DemandArea, Room, Site
from booking_api.outbox.enqueue import message_rows, write_messages
from booking_api.outbox.models import MessageStatus, OutboxMessage
from booking_api.outbox.policy import MessagePolicy
from booking_api.patients.models import Patient
from booking_api.requests.models import Request
from domain.exams import exam_catalogue
from domain.geography import haversine_km
from domain.lifecycle import AppointmentState
from forecasting.dna_features import AGE_BAND_NAMES, AGE_BANDS, FEATURES
from forecasting.dna_model import FittedDnaModel, load_model
from notifications.events import MessageEvent
from notifications.reminders import reminder_schedule

BOOKING_CHANNEL = {Channel.PORTAL: "portal", Channel.CLERK: "clerk"}
"""Our channels as the history's booking_channel (anything else: 'clerk')."""


def score_and_remind(db: Database, model_path: Path, policy: MessagePolicy,
                     appointment_id: int) -> float | None:
    """Score the booking; add its high-risk reminder if the score is high. Returns the
    probability (None: the appointment is no longer booked, nothing to do)."""
    model = saved_model(model_path)
    with db.transaction() as session:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None or appointment.state is not AppointmentState.BOOKED:
            return None
        features = booking_features(session, appointment)
        probability = float(model.predict(features)[0])
        if policy.reminders.is_high_risk(probability):
            _add_high_risk_reminder(session, appointment, policy, probability)
        return probability


@lru_cache(maxsize=4)
def saved_model(path: Path) -> FittedDnaModel:
    return load_model(path)[0]


def booking_features(session: Session, appointment: Appointment) -> pd.DataFrame:
    """One row of the model's features for a booking, as known on its booking day."""
    request = session.get(Request, appointment.request_id)
    patient = session.get(Patient, appointment.patient_id)
    assert request is not None and patient is not None and appointment.start_at
    site = session.scalar(select(Site).where(Site.site_id == _site_id(session, appointment)))
    area = session.get(DemandArea, patient.area_id) if patient.area_id else None
    exam = exam_catalogue()[request.exam_code]
    booked = appointment.booked_at or appointment.created_at
    start = appointment.start_at
    age = start.year - patient.date_of_birth.year
    prior = _prior_outcomes(session, patient.id or 0, booked)
    row: dict[str, Any] = {
        "lead_time_days": float((start.date() - booked.date()).days),
        "age_years": float(age),
        "imd_decile": float(area.imd_decile) if area else 5.0,
        "distance_km": (haversine_km(area.lat, area.lon, site.lat, site.lon)
                        if area and site else 10.0),
        "sms_reminder": float(bool(patient.phone) and not patient.sms_opt_out),
        "start_hour": start.hour + start.minute / 60,
        "age_band": _age_band(age), "weekday": str(start.weekday()),
        "modality": exam.modality.value,
        "booking_channel": BOOKING_CHANNEL.get(appointment.channel, "clerk"),
        "priority": request.priority.value, "exam_family": exam.family.value, **prior}
    row["prior_dna_rate"] = (prior["prior_dna"] + 0.1) / (
        prior["prior_dna"] + prior["prior_attended"] + 1.0)
    return pd.DataFrame([row], columns=list(FEATURES))


def _prior_outcomes(session: Session, patient_id: int, booked: datetime) -> dict[str, float]:
    """The patient's DNAs, attendances and own cancellations among appointments that started
    before the booking day (the features' leakage rule)."""
    day_start = booked.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = dict(session.execute(
        select(Appointment.state, func.count()).where(
            Appointment.patient_id == patient_id, col(Appointment.start_at) < day_start,
            col(Appointment.state).in_([AppointmentState.DNA, AppointmentState.ATTENDED,
                                        AppointmentState.CANCELLED]))
        .group_by(Appointment.state)).all())
    return {"prior_dna": float(counts.get(AppointmentState.DNA, 0)),
            "prior_attended": float(counts.get(AppointmentState.ATTENDED, 0)),
            "prior_cancelled": float(counts.get(AppointmentState.CANCELLED, 0))}


def _add_high_risk_reminder(session: Session, appointment: Appointment,
                            policy: MessagePolicy, probability: float) -> None:
    request = session.get(Request, appointment.request_id)
    assert request is not None and appointment.id and appointment.start_at
    family = exam_catalogue()[request.exam_code].family
    booked = appointment.booked_at or appointment.created_at
    extra = [r for r in reminder_schedule(appointment.start_at, family, booked,
                                          policy.reminders, probability)
             if r.event is MessageEvent.HIGH_RISK_REMINDER]
    if not extra:
        return
    change = AppointmentChanged(AppointmentChange.BOOKED, appointment.id,
                                appointment.request_id, appointment.patient_id,
                                request.exam_code, appointment.start_at, booked)
    write_messages(session, [row for row in message_rows(change, policy, probability)
                             if row["m_event"] == MessageEvent.HIGH_RISK_REMINDER.value])
    for reminder in extra:  # it replaces a regular reminder due the same day, if any
        session.connection().execute(
            update(OutboxMessage).where(
                OutboxMessage.appointment_id == appointment.id,
                OutboxMessage.event_key == f"{MessageEvent.REMINDER.value}-"
                                           f"{reminder.days_before}d",
                OutboxMessage.state == MessageStatus.PENDING)
            .values(state=MessageStatus.SKIPPED,
                    last_error="replaced by the high-risk reminder"))


def _site_id(session: Session, appointment: Appointment) -> str | None:
    room = session.get(Room, appointment.room_id) if appointment.room_id else None
    return room.site_id if room is not None else None


def _age_band(age: int) -> str:
    for upper, name in zip(AGE_BANDS[1:], AGE_BAND_NAMES, strict=True):
        if age < upper:
            return name
    return AGE_BAND_NAMES[-1]

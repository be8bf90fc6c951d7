"""The world `cdip bench backfill` runs on: a scratch database with the reference network,
a month of diaries at the chosen sites (written like the booking benchmark's), most slots
booked by patients with appointable requests (written in bulk: set-up, not measured), a
waiting list of appointable requests from the areas around them (some on the short-notice
list), and some booked patients who said yes to earlier offers. Patients take texts and
email like the history's mix."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from booking_api.appointments.models import Appointment
from booking_api.core import migrate
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.network.services import mirror_reference_data
from booking_api.patients.models import ContactPreference, Patient
from booking_api.requests.booking_reference import new_booking_reference
from booking_api.requests.models import Request
from booking_api.short_notice.models import ShortNoticeEntry
from booking_api.slots.models import Slot
from cdip_bench.booking_data import write_diaries
from cdip_bench.vetted_requests import vet_in_bulk
from domain.exams import ExamType, exam_catalogue
from domain.geography import haversine_km
from domain.lifecycle import AppointmentState, RequestState, SlotStatus
from domain.network import load_reference_network
from domain.vocabulary import Priority
from simulations.backfill_month import Booking

DEFAULT_SITES = "UHB-KNC"
"""One community diagnostic centre with every modality (8 rooms): its month, about 3,400
bookings, is what the three policies play through in a few minutes (234 s of CPU, 7 minutes
at load 3.5, measured). The issue's scope, the whole network's month (`--sites all`: 47
sites, 797 rooms, about a hundred times the bookings), would take hours here; three CDCs of
one city (`UHB-WWH,UHB-CHW,UHB-KNC`) about a quarter of an hour."""
FIRST_DAY = date(2027, 1, 4)
"""A Monday outside the clock changes: the same seed gives the same month whatever today is."""
PRIORITY_MIX = ((Priority.TWO_WEEK_WAIT, 0.06), (Priority.URGENT, 0.14),
                (Priority.ROUTINE, 0.70), (Priority.PLANNED, 0.10))
AREA_KM = 25.0
SMS_SHARE, EMAIL_SHARE = 0.85, 0.6


@dataclass(frozen=True)
class BackfillWorld:
    url: str
    bookings: list[Booking]
    window_start: datetime
    window_end: datetime
    slots: int
    waiting: int


def build_world(url: str, *, sites: str, days: int, utilisation: float, waiting_share: float,
                short_notice_share: float, seed: int) -> BackfillWorld:
    """Migrate `url` and fill it (see the module's docstring)."""
    migrate.upgrade(url)
    engine = open_engine(url, offers=None)
    rng = random.Random(seed)
    network = load_reference_network()
    chosen = ([s.site_id for s in network.sites] if sites.strip().lower() == "all"
              else [s.strip() for s in sites.split(",") if s.strip()])
    unknown = sorted(set(chosen) - set(network.site_by_id))
    if unknown:
        raise ValueError(f"sites: unknown site ids {', '.join(unknown)}")
    with transaction(engine) as session:
        mirror_reference_data(session, network, exam_catalogue())
    scope = replace(network, rooms=tuple(r for r in network.rooms if r.site_id in chosen))
    weeks = -(-days // 7)
    write_diaries(engine, scope, FIRST_DAY, weeks, 0.6, rng)
    window_start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC)
    window_end = window_start + timedelta(days=days)
    areas = [a for a in network.demand_areas if any(
        haversine_km(a.lat, a.lon, network.site_by_id[s].lat, network.site_by_id[s].lon)
        <= AREA_KM for s in chosen)] or list(network.demand_areas)
    bookings, slots = _book_most(engine, window_start, window_end, utilisation,
                                 [a.area_id for a in areas], rng)
    waiting = _waiting_list(engine, len(bookings), waiting_share, short_notice_share,
                            [a.area_id for a in areas], window_start, rng)
    engine.dispose()
    return BackfillWorld(url, bookings, window_start, window_end, slots, waiting)


def _exams_by_family() -> dict[str, list[ExamType]]:
    exams: dict[str, list[ExamType]] = {}
    for exam in exam_catalogue().values():
        exams.setdefault(exam.family.value, []).append(exam)
    return exams


def _book_most(engine: Engine, start: datetime, end: datetime, share: float,
               areas: list[str], rng: random.Random) -> tuple[list[Booking], int]:
    exams = _exams_by_family()
    with transaction(engine) as session:
        slots = session.execute(select(Slot).where(Slot.start_at < end)
                                .order_by(Slot.id)).scalars().all()
        chosen = []
        for slot in slots:
            length = (slot.end_at - slot.start_at).total_seconds() / 60
            fitting = [e for e in exams.get(slot.families, ())
                       if e.duration_min <= length and e.modality.value == slot.modality.value]
            if fitting and rng.random() < share:
                chosen.append((slot, rng.choice(fitting)))
        requests = _patients_and_requests(session, [exam for _, exam in chosen], areas,
                                          RequestState.APPOINTED, start - timedelta(days=14),
                                          rng)
        now = datetime.now(UTC)
        session.execute(insert(Appointment), [
            {"request_id": request_id, "slot_id": slot.id, "patient_id": patient_id,
             "channel": Channel.CLERK, "state": AppointmentState.BOOKED,
             "room_id": slot.room_id, "start_at": slot.start_at, "end_at": slot.end_at,
             "hold_extended": False, "booked_at": slot.start_at - timedelta(days=14),
             "created_at": now, "updated_at": now}
            for (slot, _), (patient_id, request_id, _) in zip(chosen, requests, strict=True)])
        session.execute(update(Slot).where(Slot.id.in_([s.id for s, _ in chosen]))
                        .values(status=SlotStatus.BUSY))
        appointments = {r: a for r, a in session.execute(select(Appointment.request_id,
                                                                     Appointment.id))}
    bookings = [Booking(appointments[request_id], slot.start_at, exam.modality, priority)
                for (slot, exam), (_, request_id, priority) in zip(chosen, requests,
                                                                   strict=True)]
    return bookings, len(slots)


def _waiting_list(engine: Engine, booked: int, share: float, short_notice_share: float,
                  areas: list[str], window_start: datetime, rng: random.Random) -> int:
    """Appointable requests not booked (some on the short-notice list), and booked patients
    who said yes to earlier offers."""
    with transaction(engine) as session:
        booked_exams = session.execute(select(Request.id, Request.exam_code)
                                       .order_by(Request.id)).all()
        catalogue = exam_catalogue()
        count = int(booked * share)
        exams = [catalogue[rng.choice(booked_exams).exam_code] for _ in range(count)]
        waiting = _patients_and_requests(session, exams, areas, RequestState.APPOINTABLE,
                                         window_start, rng)
        listed = [r for _, r, _ in waiting if rng.random() < short_notice_share]
        listed += [r.id for r in booked_exams if rng.random() < short_notice_share / 4]
        patients = {r: p for r, p in session.execute(
            select(Request.id, Request.patient_id).where(Request.id.in_(listed)))}
        session.execute(insert(ShortNoticeEntry), [
            {"request_id": r, "patient_id": patients[r], "days": _days(rng),
             "periods": _periods(rng), "max_km": float(rng.choice((15, 25, 40, 60))),
             "notice_hours": rng.choice((24, 48, 72)), "active": True,
             "joined_at": window_start, "updated_at": window_start} for r in listed])
    return count


def _patients_and_requests(session, exams: list[ExamType], areas: list[str],
                           state: RequestState, received_before: datetime,
                           rng: random.Random) -> list[tuple[int, int, Priority]]:
    """(patient id, request id, priority) per exam: one new patient each."""
    if not exams:
        return []
    first = (session.scalar(select(Patient.id).order_by(Patient.id.desc()).limit(1)) or 0) + 1
    rows = []
    for index in range(len(exams)):
        area = rng.choice(areas)
        texts, mails = rng.random() < SMS_SHARE, rng.random() < EMAIL_SHARE
        preference = (ContactPreference.BOTH if texts and mails else ContactPreference.SMS
                      if texts else ContactPreference.EMAIL if mails else
                      ContactPreference.NONE)
        rows.append({"given_name": "Bench", "family_name": f"Backfill {first + index}",
                     "date_of_birth": date(1940 + rng.randrange(65), 1 + rng.randrange(12), 1),
                     "postcode_district": area, "area_id": area,
                     "phone": f"+447700900{rng.randrange(1000):03d}" if texts else None,
                     "email": f"patient{first + index}@example.com" if mails else None,
                     "contact_preference": preference, "sms_opt_out": False,
                     "needs_step_free": False, "needs_hoist": False, "needs_transport": False})
    session.execute(insert(Patient), rows)
    patient_ids = list(session.scalars(select(Patient.id).where(Patient.id >= first)
                                       .order_by(Patient.id)))
    priorities = rng.choices([p for p, _ in PRIORITY_MIX], [w for _, w in PRIORITY_MIX],
                             k=len(exams))
    base = received_before
    references: set[str] = set()
    while len(references) < len(exams):
        references.add(new_booking_reference(rng))
    first_request = (session.scalar(select(Request.id).order_by(Request.id.desc()).limit(1))
                     or 0) + 1
    received = [base - timedelta(days=rng.uniform(1, 45 if p is Priority.ROUTINE else 10))
                for p in priorities]
    planned_due = base.date() + timedelta(days=21)  # inside the 6-week booking window
    session.execute(insert(Request), [
        {"patient_id": patient_id, "exam_code": exam.code, "priority": priority,
         "received_at": when, "referrer": "bench GP", "booking_reference": reference,
         "state": state, "updated_at": when,
         "due_date": planned_due if priority is Priority.PLANNED else None}
        for patient_id, exam, priority, when, reference in zip(
            patient_ids, exams, priorities, received, sorted(references), strict=True)])
    request_ids = list(session.scalars(select(Request.id).where(Request.id >= first_request)
                                       .order_by(Request.id)))
    by_letter = [r for r, row in zip(request_ids, rows, strict=True)
                 if row["phone"] is None and row["email"] is None]
    vet_in_bulk(session, [(r, e.code) for r, e in zip(request_ids, exams, strict=True)],
                min(received), received_before.date(), by_letter)
    return list(zip(patient_ids, request_ids, priorities, strict=True))


def _days(rng: random.Random) -> str:
    days = [d for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun") if rng.random() < 0.7]
    return ";".join(days or ["mon"])


def _periods(rng: random.Random) -> str:
    periods = [p for p in ("morning", "afternoon", "evening") if rng.random() < 0.7]
    return ";".join(periods or ["morning"])

"""The world `cdip bench console` runs on: the booking benchmark's scratch database (the
reference network, six weeks of whole-network diaries), the synthetic waiting list loaded as
open requests (a synthetic history of the whole network, cut at its last day: every request
received and not yet seen, with its exam, priority, area, date received and due date), and a
share of the diaries' slots booked and blocked so that diary pages show every state."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, func, insert, select, update

from booking_api.appointments.models import Appointment
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.patients.models import ContactPreference, Patient
from booking_api.requests.booking_reference import new_booking_reference
from booking_api.requests.models import Request
from booking_api.slots.models import Slot
from cdip_bench.booking_data import BenchWorld, build_world
from domain.exams import load_exam_catalogue
from domain.history import Outcome
from domain.lifecycle import AppointmentState, RequestState, SlotStatus
from domain.network import Network, load_reference_network
from simulations.synthetic_history import HistorySettings, generate_history
from simulations.synthetic_history.demand import PRIORITIES
from slot_rules.slot_request import LONDON

HISTORY_WEEKS = 8
CHUNK = 20_000
BOOKED_AT_MOST = 10
"""At most one in this many of the waiting list is booked (the rest stay open)."""
WAITING_SHARE = 0.15
"""Open requests still waiting on a condition (the rest are appointable)."""


@dataclass(frozen=True)
class WaitingList:
    requests: int
    request_ids: list[int]


@dataclass(frozen=True)
class StaffBenchWorld:
    """What the console and dashboard benchmarks measure against."""

    world: BenchWorld
    network: Network
    booked: int


def staff_bench_world(url: str, *, weeks: int, scale: float, seed: int,
                      session_share: float) -> StaffBenchWorld:
    """`weeks` of diaries, the synthetic waiting list at `scale`, a quarter of it booked and
    2 % of slots blocked over three days (shared by the console and dashboard benchmarks)."""
    world = build_world(url, weeks, 1, 1, seed, session_share)
    network = load_reference_network()
    waiting = load_waiting_list(world.engine, network, scale=scale, seed=seed,
                                today=datetime.now(LONDON).date())
    booked = book_and_block(world.engine, waiting.request_ids, booked_share=0.25,
                            blocked_share=0.02, days=3, seed=seed)
    return StaffBenchWorld(world, network, booked)


def load_waiting_list(engine: Engine, network: Network, *, scale: float, seed: int,
                      today: date) -> WaitingList:
    """Open requests from the synthetic history's waiting list on its last day, as if that
    day were `today`; one patient each, with the contact details and needs a real list has
    (some with no phone or email, an interpreter, transport, letters only)."""
    exams = list(load_exam_catalogue().values())
    history = generate_history(network, exams, HistorySettings(weeks=HISTORY_WEEKS, seed=seed,
                                                               scale=scale))
    rows = _waiting(history)
    rng = random.Random(seed * 7919 + 1)  # not the booking world's sequence of references
    areas = [area.area_id for area in network.demand_areas]
    ics_of_area = {area.area_id: area.ics_id for area in network.demand_areas}
    trust_ics = {trust.trust_id: trust.ics_id for trust in network.trusts}
    sites_of_ics: dict[str, list[str]] = {}
    for site in network.sites:
        sites_of_ics.setdefault(trust_ics[site.trust_id], []).append(site.site_id)
    cut = history.calendar.history_days
    now = datetime.now(UTC)
    with engine.connect() as connection:
        taken = set(connection.scalars(select(Request.booking_reference)))
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        references = []
        while len(references) < len(chunk):
            reference = new_booking_reference(rng)
            if reference not in taken:
                taken.add(reference)
                references.append(reference)
        ids += _insert_chunk(engine, history, chunk, references, areas, ics_of_area,
                             sites_of_ics, cut, now, today, rng)
    return WaitingList(len(ids), ids)


def book_and_block(engine: Engine, request_ids: list[int], *, booked_share: float,
                   blocked_share: float, days: int, seed: int) -> int:
    """Book `booked_share` and block `blocked_share` of the free slots of the first `days`
    days directly (bulk rows, as a busy diary would hold them), the bookings for the last
    requests loaded (appointed now); returns the bookings made."""
    rng = random.Random(seed)
    with transaction(engine) as session:
        first = session.scalar(select(func.min(Slot.start_at)))
        slots = session.execute(select(Slot.id, Slot.room_id, Slot.start_at, Slot.end_at).where(
            Slot.status == SlotStatus.FREE, Slot.start_at < first + timedelta(days=days))).all()
        rng.shuffle(slots)
        n_booked = min(int(len(slots) * booked_share), len(request_ids) // BOOKED_AT_MOST)
        n_blocked = int(len(slots) * blocked_share)
        booked, blocked = slots[:n_booked], slots[n_booked:n_booked + n_blocked]
        chosen = sorted(request_ids)[-n_booked:] if n_booked else []
        lowest = chosen[0] if chosen else 0
        patients = dict(session.execute(select(Request.id, Request.patient_id).where(
            Request.id >= lowest)).all())
        now = datetime.now(UTC)
        if not chosen:
            return 0
        session.execute(insert(Appointment), [
            {"request_id": rid, "slot_id": s.id, "channel": Channel.CLERK,
             "patient_id": patients[rid], "state": AppointmentState.BOOKED,
             "room_id": s.room_id, "start_at": s.start_at, "end_at": s.end_at,
             "booked_at": now} for s, rid in zip(booked, chosen, strict=True)])
        session.execute(update(Request).where(Request.id >= lowest)
                        .values(state=RequestState.APPOINTED))
        for status, chosen in ((SlotStatus.BUSY, booked), (SlotStatus.BUSY_UNAVAILABLE, blocked)):
            ids = [s.id for s in chosen]
            for start in range(0, len(ids), CHUNK):
                session.execute(update(Slot).where(Slot.id.in_(ids[start:start + CHUNK]))
                                .values(status=status))
    return n_booked


def _waiting(history) -> np.ndarray:
    """Indices of the requests received and not yet seen on the history's last day."""
    requests, appointments = history.requests, history.appointments
    cut = history.calendar.history_days
    attended = list(Outcome).index(Outcome.ATTENDED)
    before = appointments.start_day < cut
    seen = np.zeros(len(requests), bool)
    seen[appointments.request[before & (appointments.outcome == attended)]] = True
    booked_later = np.zeros(len(requests), bool)
    booked_later[appointments.request[~before]] = True
    ever = np.zeros(len(requests), bool)
    ever[appointments.request] = True
    return np.flatnonzero(~seen & ~booked_later & ~ever & (requests.day < cut))


def _insert_chunk(engine: Engine, history, chunk: np.ndarray, references: list[str],
                  areas: list[str], ics_of_area: dict[str, str],
                  sites_of_ics: dict[str, list[str]], cut: int, now: datetime, today: date,
                  rng: random.Random) -> list[int]:
    requests = history.requests
    area_ids = [areas[int(a)] if int(a) < len(areas) else rng.choice(areas)
                for a in requests.area[chunk]]
    with transaction(engine) as session:
        first = (session.scalar(select(func.max(Patient.id))) or 0) + 1
        session.execute(insert(Patient), [_patient(area, rng) for area in area_ids])
        patient_ids = list(session.scalars(select(Patient.id).where(Patient.id >= first)
                                           .order_by(Patient.id)))
        rows = []
        for k, index in enumerate(chunk):
            age_days = cut - int(requests.day[index])
            due = int(requests.due_day[index])
            rows.append({
                "patient_id": patient_ids[k], "booking_reference": references[k],
                "exam_code": history.exams[int(requests.exam[index])].code,
                "priority": PRIORITIES[int(requests.priority[index])],
                "received_at": now - timedelta(days=age_days, minutes=rng.randrange(600)),
                "due_date": today + timedelta(days=due - cut) if due >= 0 else None,
                "referrer": "synthetic GP",
                "site_id": rng.choice(sites_of_ics[ics_of_area[area_ids[k]]]),
                "state": (RequestState.WAITING if rng.random() < WAITING_SHARE
                          else RequestState.APPOINTABLE), "updated_at": now})
        session.execute(insert(Request), rows)
        return list(session.scalars(select(Request.id).where(
            Request.patient_id >= first).order_by(Request.id)))


def _patient(area_id: str, rng: random.Random) -> dict:
    draw = rng.random()
    return {"given_name": "Bench", "family_name": f"Waiting {rng.randrange(10**6)}",
            "date_of_birth": date(1935 + rng.randrange(80), 1 + rng.randrange(12), 1),
            "postcode_district": area_id, "area_id": area_id,
            "phone": None if draw < 0.08 else "+447700900123",
            "email": None if draw < 0.3 else "patient@example.com",
            "interpreter_language": "Punjabi" if rng.random() < 0.03 else None,
            "needs_transport": rng.random() < 0.04,
            "contact_preference": (ContactPreference.NONE if rng.random() < 0.02
                                   else ContactPreference.BOTH)}

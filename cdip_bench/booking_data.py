"""The scratch world the booking benchmark runs on: a fresh database (a temporary SQLite file,
or a new database on a PostgreSQL server, dropped afterwards), the reference network, six
weeks of whole-network diaries written through the diary service, patients with appointable
requests, and one clerk account. Only the benchmark uses it."""

from __future__ import annotations

import random
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from booking_api.access import services as access
from booking_api.access.models import AccountRole, StaffCreate
from booking_api.audit.services import Actor
from booking_api.core import migrate
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.database import open_engine
from booking_api.diary.services import slot_pattern
from booking_api.network.services import mirror_reference_data
from booking_api.patients.models import Patient
from booking_api.requests.booking_reference import new_booking_reference
from booking_api.requests.models import Request
from booking_api.slots.models import DiarySession, DiarySessionStatus, Slot
from cdip_bench.vetted_requests import BENCH_PHONE, vet_in_bulk
from domain.exams import exam_catalogue
from domain.lifecycle import RequestState, SlotStatus
from domain.network import Network, load_reference_network
from domain.session_templates import session_templates
from domain.vocabulary import Priority, SessionPeriod
from optimiser.problem import RoomSession

CLERK_NAME = "bench.clerk"
CLERK_PASSWORD = "benchmark clerk passphrase"
SETUP = Actor("system:bench-booking", Channel.SYSTEM)
LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class BenchWorld:
    url: str
    engine: Engine
    slots: int
    first_day: date
    simple_requests: list[int]
    """Appointable requests for a one-slot X-ray exam (bookings and contention)."""
    varied_requests: list[int]
    """Appointable requests for exams across the catalogue (search)."""


@contextmanager
def scratch_database(server_url: str | None) -> Iterator[str]:
    """A new, empty database URL: a temporary SQLite file, or a fresh database on the given
    PostgreSQL server; removed afterwards."""
    if not server_url or server_url.startswith("sqlite"):
        folder = tempfile.mkdtemp(prefix="cdip-bench-")
        try:
            yield f"sqlite:///{folder}/bench.sqlite3"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"cdip_bench_{uuid.uuid4().hex[:10]}"
    base = make_url(server_url).set(drivername="postgresql+psycopg")
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def build_world(url: str, weeks: int, simple: int, varied: int, seed: int,
                session_share: float) -> BenchWorld:
    """Migrate, load the network, write `weeks` of diaries from next Monday, add requests."""
    migrate.upgrade(url)
    engine = open_engine(url)
    network = load_reference_network()
    rng = random.Random(seed)
    first_day = _next_monday(datetime.now(LONDON).date())
    with transaction(engine) as session:
        mirror_reference_data(session, network, exam_catalogue())
        access.create_staff(session, SETUP, StaffCreate(
            username=CLERK_NAME, display_name="Bench Clerk", role=AccountRole.CLERK,
            password=CLERK_PASSWORD), PasswordHasher())
    write_diaries(engine, network, first_day, weeks, session_share, rng)
    simple_ids = _add_requests(engine, network, ["XCHES"] * simple, rng)
    codes = sorted(exam_catalogue())
    varied_ids = _add_requests(engine, network, [rng.choice(codes) for _ in range(varied)], rng)
    with transaction(engine) as session:
        slots = session.scalar(select(func.count()).select_from(Slot)) or 0
    if engine.dialect.name == "postgresql":  # what autovacuum does within a minute of a fill
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    return BenchWorld(url, engine, slots, first_day, simple_ids, varied_ids)


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def write_diaries(engine: Engine, network: Network, first_day: date, weeks: int,
                   share: float, rng: random.Random) -> None:
    """Sessions through SQLAlchemy, then their slots (laid out by the diary service's
    `slot_pattern`) through the driver's bulk path: COPY on PostgreSQL, executemany on SQLite.
    The diary service's own writer is right for a week's rebuild, too slow for 1.3M rows."""
    templates = session_templates()
    planned = [p for week in range(weeks)
               for p in _planned_week(network, first_day + timedelta(weeks=week), share, rng)]
    with transaction(engine) as session:
        session.execute(insert(DiarySession), [
            {"room_id": p.room_id, "session_date": p.date, "period": p.period,
             "template_id": p.template_id, "status": DiarySessionStatus.OPEN} for p in planned])
        ids = {(room, day, period): sid for sid, room, day, period in session.execute(select(
            DiarySession.id, DiarySession.room_id, DiarySession.session_date,
            DiarySession.period))}
    when = _sqlite_time if engine.dialect.name == "sqlite" else _utc
    stamp = when(datetime.now(UTC))
    rows = ((ids[(p.room_id, p.date, p.period)], p.room_id, p.site_id, when(slot.start_at),
             when(slot.end_at), templates[p.template_id].modality.value, slot.family,
             SlotStatus.FREE.value, p.template_id, 1, stamp)
            for p in planned
            for slot in slot_pattern(templates[p.template_id], p.date, p.period, LONDON))
    with engine.begin() as connection:
        _bulk_slots(connection.connection.driver_connection, engine.dialect.name, rows)


def _bulk_slots(driver: Any, dialect: str, rows: Iterable[tuple]) -> None:
    columns = ("session_id", "room_id", "site_id", "start_at", "end_at", "modality",
               "families", "status", "template_id", "version", "changed_at")
    cursor = driver.cursor()
    if dialect == "postgresql":
        with cursor.copy(f"COPY slot ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    cursor.executemany(f"INSERT INTO slot ({', '.join(columns)}) VALUES "
                       f"({', '.join('?' * len(columns))})", rows)


def _sqlite_time(moment: datetime) -> str:
    """A UTC timestamp in the text form SQLAlchemy stores on SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _planned_week(network: Network, start: date, share: float,
                  rng: random.Random) -> list[RoomSession]:
    """Each room runs, in `share` of the sessions its site is open, a template it can run."""
    templates = list(session_templates().values())
    sites = network.site_by_id
    planned = []
    for offset in range(7):
        day = start + timedelta(days=offset)
        for room in network.rooms:
            hours = sites[room.site_id].hours_on(day.weekday())
            for period in SessionPeriod:
                if not (hours.is_open and hours.opens <= period.start
                        and period.end <= hours.closes) or rng.random() >= share:
                    continue
                options = [t for t in templates if t.modality is room.modality
                           and t.required_capabilities <= room.capabilities
                           and period in t.periods]
                if options:
                    planned.append(RoomSession(room.room_id, room.site_id, day, period,
                                               rng.choice(options).template_id))
    return planned


def _add_requests(engine: Engine, network: Network, exam_codes: list[str],
                  rng: random.Random) -> list[int]:
    """One patient per request, living in a random demand area, requests appointable."""
    areas = [area.area_id for area in network.demand_areas]
    received = datetime.now(UTC) - timedelta(days=2)
    references: set[str] = set()
    while len(references) < len(exam_codes):
        references.add(new_booking_reference(rng))
    with transaction(engine) as session:
        first_patient = (session.scalar(select(func.max(Patient.id))) or 0) + 1
        area_of = [rng.choice(areas) for _ in exam_codes]
        session.execute(insert(Patient), [
            {"given_name": "Bench", "family_name": f"Patient {i}",
             "date_of_birth": date(1940 + rng.randrange(70), 1 + rng.randrange(12), 1),
             "postcode_district": area_of[i], "area_id": area_of[i], "phone": BENCH_PHONE}
            for i in range(len(exam_codes))])
        patient_ids = list(session.scalars(select(Patient.id).where(
            Patient.id >= first_patient).order_by(Patient.id)))
        session.execute(insert(Request), [
            {"patient_id": patient_id, "exam_code": code, "priority": Priority.ROUTINE,
             "received_at": received, "referrer": "bench GP", "booking_reference": reference,
             "state": RequestState.APPOINTABLE, "updated_at": received}
            for patient_id, code, reference in zip(patient_ids, exam_codes, sorted(references),
                                                   strict=True)])
        request_ids = list(session.scalars(select(Request.id).where(
            Request.patient_id.in_(patient_ids)).order_by(Request.id)))
        vet_in_bulk(session, list(zip(request_ids, exam_codes, strict=True)), received,
                    datetime.now(LONDON).date())
        return request_ids

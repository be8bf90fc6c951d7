"""Fictional patients with imaging requests, drawn from a fixed seed so every run makes the
same people. Nothing here is real: NHS numbers are in the 999 range the NHS reserves for
testing, phone numbers in Ofcom's drama range (07700 900xxx), emails at example.com."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking_api.requests.booking_reference import new_booking_reference
from domain.exams import ExamType
from domain.network import Network
from domain.vocabulary import Capability, ExamFamily, Priority

DEMO_SEED = 20261129
LONDON = ZoneInfo("Europe/London")

_FEMALE = ("Amelia", "Olivia", "Aisha", "Grace", "Priya", "Sophie", "Margaret", "Zainab",
           "Hannah", "Joan", "Fatima", "Chloe", "Irene", "Harpreet", "Ewa", "Bethany",
           "Patricia", "Nia", "Ruth", "Mei")
_MALE = ("Oliver", "Mohammed", "Harry", "Jack", "Arjun", "George", "Kwame", "Thomas",
         "Daniel", "Bilal", "Stanley", "Piotr", "Raymond", "Samuel", "Imran", "Callum",
         "Derek", "Ravi", "Owen", "Tariq")
_FAMILY = ("Smith", "Khan", "Jones", "Patel", "Williams", "Begum", "Taylor", "Brown", "Hussain",
           "Davies", "Evans", "Singh", "Walker", "Ali", "Wright", "Thompson", "Kowalski",
           "Roberts", "Okafor", "Hughes", "Mahmood", "Green", "Clarke", "Lewis", "Ahmed",
           "Morris", "Kaur", "Turner", "Edwards", "Baker")
_LANGUAGES = ("Punjabi", "Urdu", "Polish", "Bengali", "Romanian", "Arabic")
_REFERRERS = ("GP, Ashfield Road Surgery", "GP, Canal Side Medical Practice",
              "GP, Oakwood Health Centre", "GP, Market Street Surgery",
              "Orthopaedics outpatients", "Respiratory clinic", "Gastroenterology clinic",
              "Urology clinic", "Neurology outpatients", "Emergency department follow-up")
_PRIORITY_WEIGHTS = {Priority.TWO_WEEK_WAIT: 8, Priority.URGENT: 20, Priority.ROUTINE: 62,
                     Priority.PLANNED: 10}
_CHILD_FAMILIES = {ExamFamily.US_PAEDIATRIC, ExamFamily.MR_PAEDIATRIC}


@dataclass(frozen=True)
class DemoRequest:
    booking_reference: str
    exam_code: str
    priority: Priority
    received_at: datetime
    vetted_at: datetime
    due_date: date | None
    earliest_date: date
    latest_date: date
    referrer: str


@dataclass(frozen=True)
class DemoPatient:
    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: date
    postcode_district: str
    area_id: str
    phone: str
    email: str
    needs_step_free: bool
    needs_hoist: bool
    interpreter_language: str | None
    needs_transport: bool
    sms_opt_out: bool
    requests: tuple[DemoRequest, ...]


def demo_patients(network: Network, catalogue: Mapping[str, ExamType], today: date,
                  count: int = 50, seed: int = DEMO_SEED) -> list[DemoPatient]:
    """`count` patients with one or two appointable requests each.

    Identities (names, NHS numbers, references, exams) depend only on the seed and the data
    files; dates are placed relative to `today` so a fresh demo always has work in hand.
    """
    if not network.demand_areas:
        raise ValueError("the network has no demand areas to place demo patients in")
    rng = random.Random(seed)
    phones = rng.sample(range(1000), count)
    nhs_numbers = _nhs_numbers(rng, count)
    return [_patient(rng, network, catalogue, today, nhs_numbers[i], phones[i], i)
            for i in range(count)]


def _patient(rng: random.Random, network: Network, catalogue: Mapping[str, ExamType],
             today: date, nhs_number: str, phone: int, index: int) -> DemoPatient:
    female = rng.random() < 0.55
    child = rng.random() < 0.06
    age = rng.randint(1, 15) if child else round(rng.triangular(18, 95, 66))
    given = rng.choice(_FEMALE if female else _MALE)
    family = rng.choice(_FAMILY)
    area = rng.choices(network.demand_areas,
                       weights=[a.population_weight for a in network.demand_areas])[0]
    exams = _suitable_exams(catalogue, age, female)
    requests = tuple(_request(rng, exams, today) for _ in range(1 if rng.random() < 0.7 else 2))
    birthday = today - timedelta(days=age * 365 + rng.randint(0, 364))
    return DemoPatient(
        nhs_number=nhs_number, given_name=given, family_name=family,
        date_of_birth=birthday, postcode_district=area.area_id, area_id=area.area_id,
        phone=f"+447700900{phone:03d}",
        email=f"{given}.{family}{index + 1}@example.com".lower(),
        needs_step_free=rng.random() < 0.10 or age >= 85,
        needs_hoist=rng.random() < 0.03,
        interpreter_language=rng.choice(_LANGUAGES) if rng.random() < 0.08 else None,
        needs_transport=rng.random() < 0.05,
        sms_opt_out=rng.random() < 0.05,
        requests=requests,
    )


def _suitable_exams(catalogue: Mapping[str, ExamType], age: int,
                    female: bool) -> Sequence[ExamType]:
    def suits(exam: ExamType) -> bool:
        paediatric = (exam.family in _CHILD_FAMILIES
                      or Capability.PAEDIATRIC in exam.required_capabilities)
        if age < 16:
            return paediatric or exam.family is ExamFamily.XR_PLAIN
        if exam.family is ExamFamily.US_OBSTETRIC:
            return female and age <= 45
        return not paediatric

    exams = sorted((exam for exam in catalogue.values() if suits(exam)), key=lambda e: e.code)
    if not exams:
        raise ValueError(f"the exam catalogue has no exam for a demo patient aged {age}")
    return exams


def _request(rng: random.Random, exams: Sequence[ExamType], today: date) -> DemoRequest:
    exam = rng.choices(exams, weights=[e.relative_frequency for e in exams])[0]
    priority = rng.choices(list(_PRIORITY_WEIGHTS), weights=list(_PRIORITY_WEIGHTS.values()))[0]
    urgent = priority in (Priority.TWO_WEEK_WAIT, Priority.URGENT)
    received_day = today - timedelta(days=rng.randint(1, 7) if urgent else rng.randint(3, 35))
    clock = time(rng.randint(8, 16), rng.choice((0, 15, 30, 45)))
    received_at = datetime.combine(received_day, clock, LONDON).astimezone(UTC)
    vetted_at = min(received_at + timedelta(hours=rng.randint(2, 20)),
                    datetime.combine(today, time(8, 0), LONDON).astimezone(UTC))
    due_date = None
    if priority is Priority.PLANNED:
        due_date = today + timedelta(days=rng.randint(14, 70))
        earliest, latest = due_date - timedelta(days=14), due_date + timedelta(days=14)
    else:
        earliest = max(today, received_day + timedelta(days=exam.min_notice_days))
        latest = max(received_day + timedelta(days=priority.target_days),
                     earliest + timedelta(days=7))
    return DemoRequest(
        booking_reference=new_booking_reference(rng), exam_code=exam.code, priority=priority,
        received_at=received_at, vetted_at=vetted_at, due_date=due_date, earliest_date=earliest,
        latest_date=latest, referrer=rng.choice(_REFERRERS),
    )


def _nhs_numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct valid NHS numbers (modulus 11 check digit) in the 999 test range."""
    numbers: list[str] = []
    while len(numbers) < count:
        body = "999" + "".join(str(rng.randint(0, 9)) for _ in range(6))
        remainder = sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
        check = 11 - remainder
        if check == 10:
            continue
        number = body + str(0 if check == 11 else check)
        if number not in numbers:
            numbers.append(number)
    return numbers

"""A full diary to repair, for the benchmark: two weeks of the reference network planned by the
diary builder's deterministic stages (greedy, then repaired), and patients booked into a share
of every session's slots with the facts the slot rules read: home area near the site, priority
and clinical window, some with a travel limit or a short list of sites they accept, some with
access needs. Seeded, so a run can be repeated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from cdip_bench.diary import bench_problem
from domain.exams import ExamType, exam_catalogue
from domain.geography import haversine_km
from domain.network import Network
from domain.session_templates import SessionTemplate
from domain.vocabulary import Priority
from optimiser.greedy import greedy_solution
from optimiser.instance import compile_instance
from optimiser.plan_output import room_sessions
from optimiser.problem import DiaryProblem, RoomSession
from optimiser.pruning import close_idle_offpeak
from optimiser.repair.diary import slot_families, slot_start, slots_needed
from optimiser.repair.problem import Booking
from slot_rules.slot_request import SlotRequest

PRIORITY_SHARE = {Priority.TWO_WEEK_WAIT: 0.10, Priority.URGENT: 0.25, Priority.ROUTINE: 0.55,
                  Priority.PLANNED: 0.10}
HOME_KM = 25.0
"""Patients live in an area this close to the site they were booked at (else the nearest)."""


@dataclass(frozen=True)
class FullDiary:
    network: Network
    templates: Mapping[str, SessionTemplate]
    problem: DiaryProblem
    sessions: tuple[RoomSession, ...]
    bookings: tuple[Booking, ...]


def planned_weeks(seed: int, weeks: int = 2) -> tuple[DiaryProblem, list[RoomSession]]:
    """`weeks` weeks of the benchmark network, each planned from the one before."""
    problem = bench_problem(seed)
    sessions: list[RoomSession] = []
    last: tuple[RoomSession, ...] = ()
    for week in range(weeks):
        monday = problem.week_start + timedelta(days=7 * week)
        weekly = DiaryProblem(problem.network, problem.templates, monday, problem.demand,
                              problem.staff_availability, problem.travel_limit_km, last)
        inst = compile_instance(weekly)
        solution = close_idle_offpeak(inst, greedy_solution(inst))
        last = tuple(room_sessions(inst, solution.x))
        sessions += last
    return problem, sessions


def full_diary(seed: int = 0, fill: float = 0.95, weeks: int = 2) -> FullDiary:
    """The planned weeks with `fill` of the slots booked."""
    problem, sessions = planned_weeks(seed, weeks)
    bookings = book_sessions(problem.network, problem.templates, sessions, seed, fill)
    return FullDiary(problem.network, problem.templates, problem, tuple(sessions),
                     tuple(bookings))


def book_sessions(network: Network, templates: Mapping[str, SessionTemplate],
                  sessions: list[RoomSession], seed: int, fill: float) -> list[Booking]:
    """Patients in `fill` of the slots of the given lists."""
    booker = _Booker(network, templates, np.random.default_rng(seed + 1), fill)
    return [b for s in sessions for b in booker.book(s)]


class _Booker:
    def __init__(self, network: Network, templates, rng: np.random.Generator,
                 fill: float) -> None:
        self.network, self.templates, self.rng, self.fill = network, templates, rng, fill
        self.rooms = {r.room_id: r for r in network.rooms}
        exams = sorted(exam_catalogue().values(), key=lambda e: e.code)
        self.by_family: dict = {}
        for exam in exams:
            self.by_family.setdefault(exam.family, []).append(exam)
        self.homes = {site.site_id: self._homes(site) for site in network.sites}
        self.next_id = 1

    def _homes(self, site) -> list:
        areas = sorted(self.network.demand_areas, key=lambda a: a.area_id)
        near = [a for a in areas if haversine_km(a.lat, a.lon, site.lat, site.lon) <= HOME_KM]
        return near or [min(areas, key=lambda a: haversine_km(a.lat, a.lon, site.lat,
                                                             site.lon))]

    def book(self, session: RoomSession) -> list[Booking]:
        template = self.templates[session.template_id]
        room = self.rooms[session.room_id]
        families = slot_families(template)
        taken = [False] * len(families)
        bookings = []
        for i, family in enumerate(families):
            if taken[i] or self.rng.random() >= self.fill:
                continue
            exams = [e for e in self.by_family.get(family, [])
                     if template.can_run(e) and e.required_capabilities <= room.capabilities
                     and i + slots_needed(template, e.duration_min) <= len(families)
                     and not any(taken[i:i + slots_needed(template, e.duration_min)])]
            if not exams:
                continue
            weights = np.array([e.relative_frequency for e in exams])
            exam = exams[self.rng.choice(len(exams), p=weights / weights.sum())]
            count = slots_needed(template, exam.duration_min)
            taken[i:i + count] = [True] * count
            start = slot_start(template, session.date, session.period, i)
            bookings.append(self._booking(session, exam, start))
        return bookings

    def _booking(self, session: RoomSession, exam: ExamType, start: datetime) -> Booking:
        rng = self.rng
        priority = list(PRIORITY_SHARE)[rng.choice(4, p=list(PRIORITY_SHARE.values()))]
        site = self.network.site_by_id[session.site_id]
        home = self.homes[session.site_id][rng.integers(len(self.homes[session.site_id]))]
        referral = session.date - timedelta(days=int(rng.integers(1, _waited(priority))))
        child = site.age_limit_years is not None or "PAEDIATRIC" in exam.family
        facts = dict(
            priority=priority, referral_date=referral,
            age_years=int(rng.integers(2, 15)) if child else int(rng.integers(18, 90)),
            needs_step_free=bool(rng.random() < 0.05), home_lat=home.lat, home_lon=home.lon)
        facts.update(_window(priority, referral, session.date, rng))
        choice = rng.random()
        if choice < 0.3:
            facts["max_travel_km"] = float(rng.choice([10.0, 15.0, 20.0]))
        elif choice < 0.4:
            facts["acceptable_sites"] = frozenset({session.site_id})
        appointment_id = self.next_id
        self.next_id += 1
        return Booking(appointment_id, appointment_id, appointment_id, session.room_id, start,
                       SlotRequest.for_exam(exam, **facts),
                       breach_date=referral + timedelta(days=priority.target_days))


def _waited(priority: Priority) -> int:
    return 13 if priority in (Priority.TWO_WEEK_WAIT, Priority.URGENT) else 40


def _window(priority: Priority, referral: date, booked: date, rng) -> dict:
    if priority is Priority.URGENT:
        return {"latest_date": max(booked, referral + timedelta(days=21))}
    if priority is Priority.PLANNED:
        return {"earliest_date": booked - timedelta(days=int(rng.integers(0, 8))),
                "latest_date": booked + timedelta(days=int(rng.integers(0, 8)))}
    return {}

"""Properties of diary repair on random tiny diaries: it equals the exhaustive optimum (and the
complete CP-SAT model does too), every move passes the slot rules, the patient's window and
sites (the independent check), and every displaced patient is moved or reported with a
reason."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.staff_availability import StaffAvailability
from domain.vocabulary import Priority, SessionPeriod
from optimiser.repair import RepairSettings, RoomDown, SessionCancelled, check_repair
from optimiser.repair import repair_diary as repair
from optimiser.repair.exact import exact_optimum
from tests.optimiser.repair_brute_force import brute_force
from tests.optimiser.repair_world import (
    CT_FOUR,
    CT_SPLIT,
    MONDAY,
    TUESDAY,
    WEDNESDAY,
    Diary,
    ct_network,
    request,
)

DAYS = [TUESDAY, WEDNESDAY]
RADIUS_KM = 15.0
SETTINGS = RepairSettings(radius_km=RADIUS_KM, time_limit_s=20.0)
MAX_PATIENTS = 7


@st.composite
def tiny_repairs(draw):
    """A diary of CT lists on Tuesday and Wednesday mornings at one or two sites, patients in
    some slots, and the Tuesday list of S1-CT1 lost (room down or list cancelled)."""
    headcount = (draw(st.sampled_from([2, 4])), draw(st.sampled_from([0, 2])))
    near_km = draw(st.sampled_from([3.0, 40.0]))
    diary = Diary(net=ct_network(headcount=headcount, near_km=near_km))
    lists = {("S1-CT1", TUESDAY): draw(st.sampled_from([CT_FOUR, CT_SPLIT]))}
    for room_id in ("S1-CT2", "S2-CT1"):
        for day in DAYS:
            if draw(st.booleans()):
                lists[(room_id, day)] = draw(st.sampled_from([CT_FOUR, CT_SPLIT]))
    for (room_id, day), template in sorted(lists.items(), key=lambda kv: (kv[0][1],
                                                                          kv[0][0])):
        staff = headcount[0] if room_id.startswith("S1") else headcount[1]
        if _crew(diary, room_id[:2], day) + 2 <= staff:
            diary.add(room_id, day, template=template)
    for s in list(diary.sessions):
        _book(draw, diary, s)
    if not any(b.room_id == "S1-CT1" for b in diary.bookings):
        return None
    rota = _rota(diary)
    lost = draw(st.sampled_from([RoomDown("S1-CT1", TUESDAY, TUESDAY, "fault"),
                                 SessionCancelled("S1-CT1", TUESDAY, SessionPeriod.MORNING)]))
    return diary.problem(lost, staff_availability=rota)


def _crew(diary: Diary, site_id: str, day) -> int:
    return 2 * sum(1 for s in diary.sessions if s.site_id == site_id and s.date == day)


def _book(draw, diary: Diary, session) -> None:
    template = CT_FOUR if session.template_id == "CT_FOUR" else CT_SPLIT
    families = [f for f, n in template.capacity for _ in range(n)]
    slot = 0
    while slot < len(families) and len(diary.bookings) < MAX_PATIENTS:
        if not draw(st.booleans()):
            slot += 1
            continue
        duration = draw(st.sampled_from([15, 30]))
        slots = -(-duration // template.slot_minutes)
        if slot + slots > len(families):
            break
        facts = {"latest_date": draw(st.sampled_from([None, TUESDAY, WEDNESDAY]))}
        sites = draw(st.sampled_from([None, frozenset({"S1"}), frozenset({"S2"})]))
        if sites is not None:
            facts["acceptable_sites"] = sites
        if facts["latest_date"] is None:
            del facts["latest_date"]
        diary.book(session.room_id, session.date, slot, request(
            duration, families[slot], draw(st.sampled_from(list(Priority))), **facts))
        slot += slots


def _rota(diary: Diary) -> tuple[StaffAvailability, ...]:
    """Everyone on Tuesday and Wednesday mornings; no one at any other time."""
    rows = []
    for group in diary.net.staff_groups:
        for offset in range(7):
            day = MONDAY + timedelta(days=offset)
            for period in SessionPeriod:
                people = group.headcount if day in DAYS and period is SessionPeriod.MORNING else 0
                rows.append(StaffAvailability(group.site_id, group.staff_group_id, day, period,
                                              people, 0))
    return tuple(rows)


def _disruption(result, problem) -> int:
    weights = {b.appointment_id: b.priority.weight for b in problem.bookings}
    return sum(weights[u.appointment_id] for u in result.unplaced) + 3 * result.excess_moves


FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@FAST
@given(tiny_repairs())
def test_repair_equals_the_exhaustive_optimum(problem):
    if problem is None:
        return
    result = repair(problem, SETTINGS)
    best = brute_force(problem, DAYS, RADIUS_KM)
    assert (_disruption(result, problem), result.changed_sessions) == (best.disruption,
                                                                      best.changed)
    exact = exact_optimum(problem, SETTINGS, time_limit_s=20.0)
    assert exact.proven and exact.disruption == best.disruption


@FAST
@given(tiny_repairs())
def test_every_move_passes_the_rules_and_every_displaced_patient_is_accounted_for(problem):
    if problem is None:
        return
    result = repair(problem, SETTINGS)
    assert check_repair(problem, result) == []
    lost = {b.appointment_id for b in problem.bookings
            if b.room_id == "S1-CT1" and b.start.date() == TUESDAY}
    moved = {m.appointment_id for m in result.moves if m.forced}
    unplaced = {u.appointment_id: u.reason for u in result.unplaced if u.forced}
    assert moved | set(unplaced) == lost and not moved & set(unplaced)
    assert all("not re-booked: " in reason for reason in unplaced.values())

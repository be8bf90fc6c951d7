"""The smallest network that shows the booking queue: one site of the reference network with
two MRI rooms running neuro lists on weekday mornings and afternoons, and routine adult neuro
referrals from the areas near it."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from domain.network import load_reference_network
from domain.session_templates import session_templates
from domain.vocabulary import AgeBand, ExamFamily, Priority, SessionPeriod
from optimiser.problem import DemandRow, RoomSession
from simulations.whatif.start_state import StartState

MONDAY = date(2027, 1, 4)
SITE = "UHB-QE"
ROOMS = ("UHB-QE-MR2", "UHB-QE-MR3")


def small_start(weekly_referrals: float) -> StartState:
    network = load_reference_network()
    site = network.site_by_id[SITE]
    trust = network.trust_by_id[site.trust_id]
    areas = network.demand_areas[:3]
    small = dataclasses.replace(
        network, icss=tuple(i for i in network.icss if i.ics_id == trust.ics_id),
        trusts=(trust,), sites=(site,),
        rooms=tuple(r for r in network.rooms if r.room_id in ROOMS),
        staff_groups=tuple(g for g in network.staff_groups if g.site_id == SITE),
        demand_areas=tuple(dataclasses.replace(a, ics_id=trust.ics_id) for a in areas))
    diary = tuple(RoomSession(room, SITE, MONDAY + timedelta(days=d), period, "MR_NEURO")
                  for room in ROOMS for d in range(5)
                  for period in (SessionPeriod.MORNING, SessionPeriod.AFTERNOON))
    demand = tuple(DemandRow(ExamFamily.MR_NEURO, a.area_id, Priority.ROUTINE,
                             weekly_referrals / len(areas), AgeBand.ADULT) for a in areas)
    return StartState(small, session_templates(), MONDAY, diary, (), (), demand)

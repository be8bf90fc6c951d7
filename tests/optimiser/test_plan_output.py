"""Turning pooled room counts into named rooms: a diary changes no more rooms than the
objective counted."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from domain.session_templates import SessionTemplate
from domain.vocabulary import ExamFamily, Modality, SessionPeriod, StaffRole
from optimiser.instance import compile_instance
from optimiser.plan_output import room_sessions
from optimiser.problem import RoomSession
from tests.optimiser.conftest import (
    ALL_PERIODS,
    WEEK,
    XR_GENERAL,
    area,
    demand,
    network,
    problem,
    room,
    site,
    staff,
)

XR_SHORT = SessionTemplate("XR_SHORT", "Short plain film", Modality.XR,
                           ((ExamFamily.XR_PLAIN, 12),), 20, frozenset(),
                           StaffRole.RADIOGRAPHER, 1, False, 0, ALL_PERIODS)


def test_a_new_template_goes_to_the_room_that_changes_anyway_not_one_closed_last_week():
    net = network([site("S1", 52.0, -2.0)], [room("S1-XR1", "S1"), room("S1-XR2", "S1")],
                  [staff("G1", "S1", headcount=2, sessions=20)], [area("A1", 52.009, -2.0)])
    last = (RoomSession("S1-XR2", "S1", WEEK - timedelta(days=7), SessionPeriod.MORNING,
                        "XR_SHORT"),)
    inst = compile_instance(problem(net, [demand(ExamFamily.XR_PLAIN, "A1", 24)],
                                    [XR_GENERAL, XR_SHORT], last_week=last))
    monday_morning = [o for o in range(len(inst.option_class))
                      if inst.option_t[o] == 0
                      and inst.templates[inst.option_template[o]].template_id == "XR_GEN"]
    x = np.zeros(len(inst.option_class), dtype=int)
    x[monday_morning] = 1
    sessions = room_sessions(inst, x)
    assert [(s.room_id, s.template_id) for s in sessions] == [("S1-XR2", "XR_GEN")]

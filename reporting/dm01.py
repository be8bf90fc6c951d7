"""The DM01 return for a month: one row per provider and DM01 imaging test with the waiting
list at the month end in weeks-waited bands and the tests done in the month.

Waiting list: `waiting_list` at the month's last day, under the trust responsible for the
request. Activity: appointments attended in the month (UK dates), under the trust of the site
that did the test, split into planned (priority planned), unscheduled (patient source setting
01 inpatient or 05 A&E) and waiting-list activity (the rest). Every provider of the network
gets a row for each test the catalogue has exams for, zeros included.

Nothing is dropped without a trace: `counts_left_out` says how many attended examinations and
waiting requests the return does not count and why (not a DM01 test, planned, unscheduled),
and `warnings` flags providers reported under the network's own id for want of an ODS code."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from domain.lifecycle import AppointmentState
from domain.vocabulary import Priority
from reporting.inputs import SOURCE_SETTINGS
from reporting.layouts import DM01, DM01_BANDS, check_layout
from reporting.london import Month
from reporting.record import FAMILIES, PRIORITIES, Record, appointment_code, state_code
from reporting.waiting_list import (
    DM01_TESTS,
    UNSCHEDULED_SETTINGS,
    WAITING_STATES,
    census_instant,
    dm01_test,
    state_at,
    waiting_bands,
    waiting_list,
)

ACTIVITY = ("Waiting List Activity", "Planned Activity", "Unscheduled Activity")


@dataclass(frozen=True)
class Dm01Return:
    month: str
    rows: pd.DataFrame
    counts_left_out: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def dm01_return(record: Record, month: Month, reset_clock: bool = True) -> Dm01Return:
    """The return, checked against the DM01 layout before it is handed back."""
    tests = _tests_offered(record)
    waiting = waiting_list(record, month.last_day, reset_clock=reset_clock)
    bands = waiting_bands(waiting, ["trust", "test"]).set_index(["trust", "test"])
    activity, left_out = _activity(record, month)
    trusts = record.tables.trusts
    index = pd.MultiIndex.from_product([trusts.trust_id.astype(str), tests],
                                       names=["trust", "test"])
    table = (bands.reindex(index, fill_value=0)
             .join(activity.reindex(index, fill_value=0)).reset_index())
    codes, warnings = _provider_codes(trusts)
    rows = pd.DataFrame({
        "Period": month.label,
        "Provider Org Code": table.trust.map(codes),
        "Provider Org Name": table.trust.map(dict(zip(trusts.trust_id.astype(str),
                                                      trusts.name.astype(str), strict=True))),
        "Diagnostic Test Name": table.test,
        **{band: table[band].astype(np.int64) for band in DM01_BANDS},
        "Total Waiting List": table["Total Waiting List"].astype(np.int64),
        "Waiting 6+ Weeks": table["Waiting 6+ Weeks"].astype(np.int64),
        "Waiting 13+ Weeks": table["Waiting 13+ Weeks"].astype(np.int64),
        "Percentage Waiting 6+ Weeks": (100 * table["Share Waiting 6+ Weeks"]).round(1),
        **{name: table[name].astype(np.int64) for name in ACTIVITY},
    })
    rows["Total Activity"] = rows[list(ACTIVITY)].sum(axis=1)
    check_layout(rows, DM01)
    left_out.update(_waiting_left_out(record, month))
    return Dm01Return(month.label, rows, left_out, warnings)


def _tests_offered(record: Record) -> list[str]:
    families = {FAMILIES[code] for code in record.tables.exam_family}
    offered = {dm01_test(family) for family in families} - {None}
    return [test for test in DM01_TESTS if test in offered]


def _activity(record: Record, month: Month) -> tuple[pd.DataFrame, dict[str, int]]:
    a, r, t = record.appointments, record.requests, record.tables
    done = np.flatnonzero((a.state == appointment_code(AppointmentState.ATTENDED))
                          & (a.start >= month.start_ns) & (a.start < month.end_ns))
    request = a.request[done]
    test = np.array([dm01_test(f) or "" for f in FAMILIES], dtype=object)[
        t.exam_family[r.exam[request]]]
    planned = r.priority[request] == PRIORITIES.index(Priority.PLANNED)
    unscheduled = np.isin(r.source[request],
                          [SOURCE_SETTINGS.index(s) for s in UNSCHEDULED_SETTINGS]) & ~planned
    kind = np.where(planned, ACTIVITY[1], np.where(unscheduled, ACTIVITY[2], ACTIVITY[0]))
    counted = test != ""
    trust = t.site_trust[t.room_site[a.room[done]]]
    frame = pd.DataFrame({"trust": t.trusts.trust_id.astype(str).to_numpy(dtype=object)[trust],
                          "test": test, "kind": kind})[counted]
    table = (frame.groupby(["trust", "test", "kind"]).size().unstack("kind", fill_value=0)
             .reindex(columns=list(ACTIVITY), fill_value=0))
    left_out = {"attended examinations not in a DM01 test (plain X-ray, fluoroscopy, "
                "obstetric ultrasound)": int((~counted).sum())}
    return table, left_out


def _waiting_left_out(record: Record, month: Month) -> dict[str, int]:
    """Requests open at the census that the waiting list leaves out, by reason."""
    everyone = _open_not_listed(record, month)
    return {
        "open requests not in a DM01 test": int(everyone["not_dm01"]),
        "open planned requests (DM01 excludes planned tests)": int(everyone["planned"]),
        "open unscheduled requests (inpatient or A&E)": int(everyone["unscheduled"]),
    }


def _open_not_listed(record: Record, month: Month) -> dict[str, int]:
    """Counts of requests open at the month end by reason they are not on the DM01 list."""
    end = census_instant(month.last_day)
    r, t = record.requests, record.tables
    state = state_at(record, end)
    open_ = np.isin(state, [state_code(s) for s in WAITING_STATES]) & (r.received < end)
    in_test = np.array([dm01_test(f) is not None for f in FAMILIES])[t.exam_family[r.exam]]
    planned = r.priority == PRIORITIES.index(Priority.PLANNED)
    unscheduled = np.isin(r.source, [SOURCE_SETTINGS.index(s) for s in UNSCHEDULED_SETTINGS])
    return {"not_dm01": (open_ & ~in_test).sum(),
            "planned": (open_ & in_test & planned).sum(),
            "unscheduled": (open_ & in_test & ~planned & unscheduled).sum()}


def _provider_codes(trusts: pd.DataFrame) -> tuple[dict[str, str], list[str]]:
    codes, missing = {}, []
    for trust_id, code in zip(trusts.trust_id.astype(str), trusts.org_code, strict=True):
        if isinstance(code, str) and code:
            codes[trust_id] = code
        else:
            codes[trust_id] = trust_id
            missing.append(trust_id)
    warnings = []
    if missing:
        warnings.append(f"no ODS organisation code for {', '.join(missing)}: reported under the "
                        "network's own id; map them to ODS codes before submitting")
    return codes, warnings

"""The request and appointment lifecycle tables: what may follow what, what is final, and how
appointment states map to FHIR."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum

import pytest

from domain.lifecycle import (
    APPOINTMENT_TRANSITIONS,
    REQUEST_TRANSITIONS,
    AppointmentState,
    IllegalTransition,
    RequestState,
    check_appointment_transition,
    check_request_transition,
)

FHIR_APPOINTMENT_STATUSES = {
    "proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow",
    "entered-in-error", "checked-in", "waitlist",
}

TABLES: list[tuple[str, Mapping, Callable[[StrEnum, StrEnum], None], type[StrEnum]]] = [
    ("request", REQUEST_TRANSITIONS, check_request_transition, RequestState),
    ("appointment", APPOINTMENT_TRANSITIONS, check_appointment_transition, AppointmentState),
]

TABLES_BY_KIND = {kind: table for kind, table, _, _ in TABLES}


def _pairs(allowed: bool) -> list:
    return [
        pytest.param(kind, check, current, target, id=f"{kind}:{current}->{target}")
        for kind, table, check, states in TABLES
        for current in states for target in states
        if (target in table[current]) is allowed
    ]


@pytest.mark.parametrize(("kind", "check", "current", "target"), _pairs(allowed=True))
def test_allowed_transition_passes(kind: str, check: Callable, current: StrEnum,
                                   target: StrEnum) -> None:
    assert check(current, target) is None


@pytest.mark.parametrize(("kind", "check", "current", "target"), _pairs(allowed=False))
def test_forbidden_transition_names_both_states_and_what_is_allowed(
        kind: str, check: Callable, current: StrEnum, target: StrEnum) -> None:
    table = TABLES_BY_KIND[kind]
    with pytest.raises(IllegalTransition) as caught:
        check(current, target)
    message = str(caught.value)
    assert f"'{current}' to '{target}'" in message
    assert all(f"'{allowed}'" in message for allowed in table[current])
    assert (caught.value.kind, caught.value.current, caught.value.target) == (kind, current, target)


@pytest.mark.parametrize(("kind", "table", "check", "states"), TABLES,
                         ids=["request", "appointment"])
def test_every_state_has_a_row_and_every_target_is_a_state(
        kind: str, table: Mapping, check: Callable, states: type[StrEnum]) -> None:
    assert set(table) == set(states)
    assert all(isinstance(target, states) for targets in table.values() for target in targets)


def test_rejected_and_cancelled_are_the_final_request_states() -> None:
    final = {state for state, targets in REQUEST_TRANSITIONS.items() if not targets}
    assert final == {RequestState.REJECTED, RequestState.CANCELLED}


def test_cancelled_attended_and_dna_are_the_final_appointment_states() -> None:
    final = {state for state, targets in APPOINTMENT_TRANSITIONS.items() if not targets}
    assert final == {AppointmentState.CANCELLED, AppointmentState.ATTENDED, AppointmentState.DNA}


FINAL_STATES = [
    pytest.param(check, final, target, id=f"{final.__class__.__name__}:{final}->{target}")
    for _, table, check, states in TABLES
    for final in states if not table[final]
    for target in states
]


@pytest.mark.parametrize(("check", "final", "target"), FINAL_STATES)
def test_a_final_state_has_no_way_out(check: Callable, final: StrEnum, target: StrEnum) -> None:
    with pytest.raises(IllegalTransition, match=r"nothing \(it is final\)"):
        check(final, target)


@pytest.mark.parametrize(("table", "start"), [
    (REQUEST_TRANSITIONS, RequestState.RECEIVED), (APPOINTMENT_TRANSITIONS, AppointmentState.HELD),
], ids=["request", "appointment"])
def test_every_state_is_reachable_from_the_first(table: Mapping, start: StrEnum) -> None:
    reached, frontier = {start}, [start]
    while frontier:
        for target in table[frontier.pop()] - reached:
            reached.add(target)
            frontier.append(target)
    assert reached == set(table)


def test_a_request_is_appointed_only_once_appointable() -> None:
    sources = {s for s, targets in REQUEST_TRANSITIONS.items() if RequestState.APPOINTED in targets}
    assert sources == {RequestState.APPOINTABLE}


def test_a_request_is_reported_only_after_images_are_acquired() -> None:
    with pytest.raises(IllegalTransition):
        check_request_transition(RequestState.ATTENDED, RequestState.REPORTED)
    check_request_transition(RequestState.ACQUIRED, RequestState.REPORTED)


def test_a_held_appointment_cannot_be_attended_without_booking() -> None:
    with pytest.raises(IllegalTransition, match="'booked', 'cancelled'"):
        check_appointment_transition(AppointmentState.HELD, AppointmentState.ATTENDED)


def test_fhir_status_mapping_is_one_to_one() -> None:
    statuses = [state.fhir_status for state in AppointmentState]
    assert len(set(statuses)) == len(statuses)


def test_fhir_statuses_are_valid_fhir_r4_appointment_codes() -> None:
    assert {state.fhir_status for state in AppointmentState} <= FHIR_APPOINTMENT_STATUSES


@pytest.mark.parametrize(("state", "status"), [
    (AppointmentState.HELD, "pending"), (AppointmentState.BOOKED, "booked"),
    (AppointmentState.CANCELLED, "cancelled"), (AppointmentState.ATTENDED, "fulfilled"),
    (AppointmentState.DNA, "noshow"),
])
def test_appointment_state_maps_to_its_fhir_status(state: AppointmentState, status: str) -> None:
    assert state.fhir_status == status


def test_only_held_and_booked_appointments_occupy_their_slot() -> None:
    active = {state for state in AppointmentState if state.is_active}
    assert active == {AppointmentState.HELD, AppointmentState.BOOKED}


def test_active_appointments_are_exactly_those_not_final() -> None:
    assert all(state.is_active == bool(APPOINTMENT_TRANSITIONS[state])
               for state in AppointmentState)

"""Disruptions as records: kept after checks, audited, revoked rather than deleted; bad input
(a day in the past, an unknown room, overlapping disruptions, ...) refused naming the field,
keeping nothing. Through the service and the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking_api.access.models import AccountRole
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.core.errors import ChangeRefused, InvalidInput
from booking_api.diary.disruptions import (
    add_disruption,
    as_repair_disruption,
    list_disruptions,
    revoke_disruption,
)
from booking_api.diary.models import Disruption, DisruptionCreate, DisruptionState
from domain.session_templates import session_templates
from optimiser.repair import RoomDown
from tests.booking_api.access_support import (
    add_staff,
    audit_events,
    clerk,
    client,
    clock,
    engine,
    migrated_url,
    shared_database,
    staff_headers,
)

__all__ = ["clerk", "client", "clock", "engine", "migrated_url", "shared_database"]

ACTOR = Actor("manager:mo", Channel.CLERK, role="manager")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
ROOM_DOWN = {"kind": "room_down", "room_id": "S1-XR1", "first_day": date(2026, 12, 7),
             "last_day": date(2026, 12, 8), "reason": "detector fault"}


def _add(session, **fields):
    return add_disruption(session, ACTOR, DisruptionCreate(**fields),
                          templates=session_templates(), now=NOW, zone=LONDON)


def _count(engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(Disruption))


def test_a_room_down_is_kept_audited_and_revoked_not_deleted(one_slot, engine):
    with transaction(engine) as session:
        kept = _add(session, **ROOM_DOWN)
        assert as_repair_disruption(kept) == RoomDown("S1-XR1", date(2026, 12, 7),
                                                      date(2026, 12, 8), "detector fault")
    with transaction(engine) as session:
        revoke_disruption(session, ACTOR, kept.id, "fixed sooner", now=NOW)
    with transaction(engine) as session:
        rows = list_disruptions(session)
        assert [(r.id, r.state) for r in rows] == [(kept.id, DisruptionState.REVOKED)]
        assert list_disruptions(session, active_only=True) == []
        with pytest.raises(ChangeRefused):
            revoke_disruption(session, ACTOR, kept.id, "again", now=NOW)
    assert [e.action for e in audit_events(engine, "disruption.added")] == ["disruption.added"]
    assert len(audit_events(engine, "disruption.revoked")) == 1


BAD = [
    ({"kind": "room_down", "first_day": date(2026, 12, 7), "reason": "x"}, "room_id"),
    ({**ROOM_DOWN, "room_id": "NOPE"}, "room_id"),
    ({**ROOM_DOWN, "first_day": date(2026, 11, 30)}, "first_day"),
    ({**ROOM_DOWN, "last_day": date(2026, 12, 6)}, "last_day"),
    ({**ROOM_DOWN, "site_id": "S1"}, "site_id"),
    ({"kind": "site_closed", "site_id": "S9", "first_day": date(2026, 12, 7), "reason": "x"},
     "site_id"),
    ({"kind": "staff_short", "site_id": "S2", "role": "radiologist", "people": 1,
      "first_day": date(2026, 12, 7), "reason": "x"}, "role"),
    ({"kind": "staff_short", "site_id": "S2", "role": "radiographer",
      "first_day": date(2026, 12, 7), "reason": "x"}, "people"),
    ({"kind": "session_cancelled", "room_id": "S2-XR1", "period": "morning",
      "first_day": date(2026, 12, 7), "reason": "x"}, "period"),
    ({"kind": "session_cancelled", "room_id": "S1-XR1", "period": "morning",
      "first_day": date(2026, 12, 7), "last_day": date(2026, 12, 8), "reason": "x"},
     "last_day"),
    ({"kind": "extra_list", "room_id": "S1-XR1", "period": "morning",
      "template_id": "XR_PLAIN_GEN", "first_day": date(2026, 12, 7), "reason": "x"}, "period"),
    ({"kind": "extra_list", "room_id": "S2-XR1", "period": "morning", "template_id": "NOPE",
      "first_day": date(2026, 12, 7), "reason": "x"}, "template_id"),
    ({"kind": "extra_list", "room_id": "S2-XR1", "period": "morning", "template_id": "US_GEN",
      "first_day": date(2026, 12, 7), "reason": "x"}, "template_id"),
]


@pytest.mark.parametrize(("fields", "field"), BAD, ids=[f"{b[0]['kind']}-{b[1]}" for b in BAD])
def test_bad_input_is_refused_naming_the_field_and_keeps_nothing(one_slot, engine, fields,
                                                                 field):
    with pytest.raises(InvalidInput) as caught, transaction(engine) as session:
        _add(session, **fields)
    assert caught.value.field == field
    assert _count(engine) == 0


def test_overlapping_disruptions_are_refused_until_the_first_is_revoked(one_slot, engine):
    cancel = {"kind": "session_cancelled", "room_id": "S1-XR1", "period": "morning",
              "first_day": date(2026, 12, 7), "reason": "no radiographer"}
    with transaction(engine) as session:
        first = _add(session, **ROOM_DOWN)
    with pytest.raises(InvalidInput, match=f"overlaps disruption {first.id}") as caught, \
            transaction(engine) as session:
        _add(session, **cancel)
    assert caught.value.field == "first_day"
    assert _count(engine) == 1
    with transaction(engine) as session:
        revoke_disruption(session, ACTOR, first.id, "reported in error", now=NOW)
        _add(session, **cancel)
    assert _count(engine) == 2


def test_staff_short_on_overlapping_days_for_the_same_role_is_refused(one_slot, engine):
    short = {"kind": "staff_short", "site_id": "S1", "role": "radiographer", "people": 2,
             "first_day": date(2026, 12, 7), "last_day": date(2026, 12, 9), "reason": "flu"}
    with transaction(engine) as session:
        _add(session, **short)
    with pytest.raises(InvalidInput, match="radiographer staff at S1 on 2026-12-09"), \
            transaction(engine) as session:
        _add(session, **{**short, "first_day": date(2026, 12, 9), "last_day": None})


# --- the JSON API ----------------------------------------------------------------------------

def _api_body(fields: dict) -> dict:
    return {key: value.isoformat() if isinstance(value, date) else value
            for key, value in fields.items()}


def test_a_manager_reports_and_revokes_through_the_api_and_a_clerk_may_only_read(
        one_slot, engine, client, clerk, clock):
    add_staff(engine, "mo.manager", AccountRole.MANAGER)
    manager = staff_headers(client, "mo.manager")
    refused = client.post("/api/disruptions", json=_api_body(ROOM_DOWN),
                          headers={**clerk, "Idempotency-Key": "c1"})
    assert refused.status_code == 403
    made = client.post("/api/disruptions", json=_api_body(ROOM_DOWN),
                       headers={**manager, "Idempotency-Key": "m1"})
    assert made.status_code == 201, made.text
    listed = client.get("/api/disruptions?active=true", headers=clerk)
    assert [d["id"] for d in listed.json()] == [made.json()["id"]]
    revoked = client.post(f"/api/disruptions/{made.json()['id']}/revoke",
                          json={"reason": "fixed"}, headers={**manager, "Idempotency-Key": "m2"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"


@pytest.mark.parametrize(("fields", "field"), [
    ({**ROOM_DOWN, "room_id": "NOPE"}, "room_id"),
    ({**ROOM_DOWN, "first_day": date(2026, 11, 2)}, "first_day"),
])
def test_the_api_answers_bad_input_naming_the_field(one_slot, engine, client, clock, fields,
                                                    field):
    add_staff(engine, "mo.manager", AccountRole.MANAGER)
    manager = staff_headers(client, "mo.manager")
    response = client.post("/api/disruptions", json=_api_body(fields),
                           headers={**manager, "Idempotency-Key": "bad"})
    assert 400 <= response.status_code < 500
    assert field in response.text
    assert _count(engine) == 0

"""The short-notice list service: join, change and leave, one audit event each, another
patient's request reported as not found, and bad answers refused naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from booking_api.audit.models import AuditEvent
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.core.errors import InvalidInput, NotFound
from booking_api.requests.models import Request
from booking_api.short_notice.services import (
    ShortNoticeWish,
    join_short_notice,
    leave_short_notice,
    short_notice_wish,
)
from tests.patient_portal.portal_world import PortalWorld, portal_engine

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WISH = ShortNoticeWish(frozenset({"mon", "fri"}), frozenset({"morning"}), 16.1, 24)


@pytest.fixture
def engine(portal_world: PortalWorld) -> Iterator[Engine]:
    made = portal_engine(portal_world)
    yield made
    made.dispose()


def _patient_of(engine: Engine, request_id: int) -> int:
    with transaction(engine) as session:
        request = session.get(Request, request_id)
        assert request is not None
        return request.patient_id


def _audits(engine: Engine, request_id: int) -> list[str]:
    with transaction(engine) as session:
        return list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "request", AuditEvent.entity_id == str(request_id),
            func.substr(AuditEvent.action, 1, 12) == "short_notice").order_by(AuditEvent.id)))


def test_joining_changing_and_leaving_are_each_recorded(engine: Engine,
                                                       portal_world: PortalWorld) -> None:
    request_id = portal_world.patients[11].request_id
    patient_id = _patient_of(engine, request_id)
    actor = Actor(f"patient:{patient_id}", Channel.PORTAL, "patient")
    with transaction(engine) as session:
        join_short_notice(session, actor, request_id, WISH, now=NOW, patient_id=patient_id)
    later = ShortNoticeWish(frozenset({"sat"}), frozenset({"evening"}), 32.2, 72)
    with transaction(engine) as session:
        join_short_notice(session, actor, request_id, later, now=NOW, patient_id=patient_id)
        assert short_notice_wish(session, request_id, patient_id) == later
    with transaction(engine) as session:
        assert leave_short_notice(session, actor, request_id, now=NOW, patient_id=patient_id)
        assert short_notice_wish(session, request_id, patient_id) is None
        assert not leave_short_notice(session, actor, request_id, now=NOW,
                                      patient_id=patient_id)
    assert _audits(engine, request_id) == ["short_notice.joined", "short_notice.changed",
                                           "short_notice.left"]


def test_another_patients_request_is_not_found(engine: Engine,
                                               portal_world: PortalWorld) -> None:
    mine, theirs = portal_world.patients[10], portal_world.patients[9]
    patient_id = _patient_of(engine, mine.request_id)
    actor = Actor(f"patient:{patient_id}", Channel.PORTAL, "patient")
    with transaction(engine) as session, pytest.raises(NotFound):
        join_short_notice(session, actor, theirs.request_id, WISH, now=NOW,
                          patient_id=patient_id)


@pytest.mark.parametrize(("changes", "field"), [
    ({"days": frozenset()}, "days"),
    ({"days": frozenset({"someday"})}, "days"),
    ({"periods": frozenset()}, "periods"),
    ({"periods": frozenset({"night"})}, "periods"),
    ({"max_km": 0.0}, "max_km"),
    ({"max_km": 500.0}, "max_km"),
    ({"notice_hours": 0}, "notice_hours"),
    ({"notice_hours": 24 * 30}, "notice_hours"),
])
def test_a_bad_answer_is_refused_naming_the_field(changes: dict[str, object],
                                                  field: str) -> None:
    values = {"days": WISH.days, "periods": WISH.periods, "max_km": WISH.max_km,
              "notice_hours": WISH.notice_hours, **changes}
    with pytest.raises(InvalidInput) as refused:
        ShortNoticeWish(**values)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert field in refused.value.message

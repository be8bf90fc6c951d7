"""Disruptions as records: a room down for some days, a whole site closed, a staff group short
(site, role, days, how many), a list cancelled, an extra list added. Each is checked against
the network and the diary before it is kept (unknown room, a day in the past, two disruptions
claiming the same room-session or the same site's role on a day are refused, naming the field),
audited, and revoked rather than deleted. `cdip diary repair` turns them into the optimiser's
disruptions (`as_repair_disruption`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from booking_api.audit.services import Actor, record_audit
from booking_api.core.columns import split_codes
from booking_api.core.errors import ChangeRefused, InvalidInput, NotFound
from booking_api.diary.models import (
    Disruption,
    DisruptionCreate,
    DisruptionKind,
    DisruptionState,
)
from booking_api.network.models import Room, Site, StaffGroup
from booking_api.slots.models import DiarySession, DiarySessionStatus
from domain.session_templates import SessionTemplate
from domain.vocabulary import SessionPeriod
from optimiser import repair as engine
from optimiser.problem import PERIODS

NEEDS = {
    DisruptionKind.ROOM_DOWN: ("room_id",),
    DisruptionKind.SITE_CLOSED: ("site_id",),
    DisruptionKind.STAFF_SHORT: ("site_id", "role", "people"),
    DisruptionKind.SESSION_CANCELLED: ("room_id", "period"),
    DisruptionKind.EXTRA_LIST: ("room_id", "period", "template_id"),
}
"""The fields each kind must have; every other optional field must be empty."""
OPTIONAL = ("room_id", "site_id", "role", "people", "period", "template_id")
ONE_SESSION = {DisruptionKind.SESSION_CANCELLED, DisruptionKind.EXTRA_LIST}
MAX_DAYS = 366


def add_disruption(session: Session, actor: Actor, body: DisruptionCreate, *,
                   templates: Mapping[str, SessionTemplate], now: datetime,
                   zone: ZoneInfo) -> Disruption:
    """Check and keep a disruption; InvalidInput naming the field, nothing kept, when it is
    wrong or overlaps an active one."""
    last_day = body.last_day or body.first_day
    _check_fields(body, last_day, now.astimezone(zone).date())
    _check_names(session, body, last_day, templates)
    record = Disruption(**body.model_dump(exclude={"last_day"}), last_day=last_day,
                        created_by=actor.name, created_at=now)
    _check_overlaps(session, record)
    session.add(record)
    session.flush()
    record_audit(session, actor, "disruption.added", "disruption", record.id,
                 after=_audit_view(record), reason=record.reason)
    return record


def revoke_disruption(session: Session, actor: Actor, disruption_id: int, reason: str, *,
                      now: datetime) -> Disruption:
    """Withdraw a disruption (reported in error, or over early); kept, marked revoked."""
    if not reason.strip():
        raise InvalidInput("say why the disruption is revoked", "reason")
    record = session.get(Disruption, disruption_id, with_for_update=True,
                         populate_existing=True)
    if record is None:
        raise NotFound("disruption", disruption_id, "disruption_id")
    if record.state is DisruptionState.REVOKED:
        raise ChangeRefused(f"disruption {disruption_id} was already revoked", "disruption_id")
    record.state, record.revoked_at = DisruptionState.REVOKED, now
    record.revoked_by, record.revoke_reason = actor.name, reason.strip()
    session.flush()
    record_audit(session, actor, "disruption.revoked", "disruption", record.id,
                 before={"state": DisruptionState.ACTIVE.value},
                 after={"state": DisruptionState.REVOKED.value}, reason=reason.strip())
    return record


def list_disruptions(session: Session, *, active_only: bool = False,
                     ending_from: date | None = None) -> list[Disruption]:
    """Disruptions by first day; `ending_from` keeps those still running on or after it."""
    query = select(Disruption).order_by(col(Disruption.first_day), col(Disruption.id))
    if active_only:
        query = query.where(Disruption.state == DisruptionState.ACTIVE)
    if ending_from is not None:
        query = query.where(col(Disruption.last_day) >= ending_from)
    return list(session.scalars(query))


def as_repair_disruption(record: Disruption) -> engine.Disruption:
    """The optimiser's view of a kept disruption."""
    kind = record.kind
    if kind is DisruptionKind.ROOM_DOWN:
        return engine.RoomDown(record.room_id, record.first_day, record.last_day, record.reason)
    if kind is DisruptionKind.SITE_CLOSED:
        return engine.SiteClosed(record.site_id, record.first_day, record.last_day,
                                 record.reason)
    if kind is DisruptionKind.STAFF_SHORT:
        return engine.StaffShort(record.site_id, record.role, record.first_day,
                                 record.last_day, record.people, record.reason)
    if kind is DisruptionKind.SESSION_CANCELLED:
        return engine.SessionCancelled(record.room_id, record.first_day, record.period,
                                       record.reason)
    return engine.ExtraList(record.room_id, record.first_day, record.period,
                            record.template_id, record.reason)


def _check_fields(body: DisruptionCreate, last_day: date, today: date) -> None:
    for name in NEEDS[body.kind]:
        if getattr(body, name) is None:
            raise InvalidInput(f"a {body.kind.value} disruption needs {name}", name)
    for name in OPTIONAL:
        if name not in NEEDS[body.kind] and getattr(body, name) is not None:
            raise InvalidInput(f"a {body.kind.value} disruption has no {name}", name)
    if body.first_day < today:
        raise InvalidInput(f"{body.first_day} is in the past (today is {today})", "first_day")
    if last_day < body.first_day:
        raise InvalidInput(f"{last_day} is before first_day {body.first_day}", "last_day")
    if body.kind in ONE_SESSION and last_day != body.first_day:
        raise InvalidInput(f"a {body.kind.value} disruption is one session: last_day must be "
                           "first_day or empty", "last_day")
    if (last_day - body.first_day).days >= MAX_DAYS:
        raise InvalidInput(f"longer than {MAX_DAYS} days", "last_day")
    if not body.reason.strip():
        raise InvalidInput("say what happened", "reason")


def _check_names(session: Session, body: DisruptionCreate, last_day: date,
                 templates: Mapping[str, SessionTemplate]) -> None:
    room = session.get(Room, body.room_id) if body.room_id else None
    if body.room_id and room is None:
        raise InvalidInput(f"no room '{body.room_id}'", "room_id")
    if body.site_id and session.get(Site, body.site_id) is None:
        raise InvalidInput(f"no site '{body.site_id}'", "site_id")
    if body.kind is DisruptionKind.STAFF_SHORT and session.scalar(
            select(StaffGroup.staff_group_id).where(StaffGroup.site_id == body.site_id,
                                                    StaffGroup.role == body.role)) is None:
        raise InvalidInput(f"no {body.role.value} groups at {body.site_id}", "role")
    if body.kind in ONE_SESSION:
        runs = _open_session(session, body.room_id, body.first_day, body.period)
        if body.kind is DisruptionKind.SESSION_CANCELLED and not runs:
            raise InvalidInput(f"{body.room_id} has no {body.period.value} list on "
                               f"{body.first_day} to cancel", "period")
        if body.kind is DisruptionKind.EXTRA_LIST:
            if runs:
                raise InvalidInput(f"{body.room_id} already runs a {body.period.value} list "
                                   f"on {body.first_day}", "period")
            _check_template(room, body, templates)


def _check_template(room: Room, body: DisruptionCreate,
                    templates: Mapping[str, SessionTemplate]) -> None:
    template = templates.get(body.template_id)
    if template is None:
        raise InvalidInput(f"no session template '{body.template_id}'", "template_id")
    capabilities = set(split_codes(room.capabilities))
    if template.modality is not room.modality or not {
            c.value for c in template.required_capabilities} <= capabilities:
        raise InvalidInput(f"room {room.room_id} cannot run {template.template_id}",
                           "template_id")
    if body.period not in template.periods:
        raise InvalidInput(f"{template.template_id} does not run in the {body.period.value}",
                           "period")


def _open_session(session: Session, room_id: str, day: date, period: SessionPeriod) -> bool:
    return session.scalar(select(DiarySession.id).where(
        DiarySession.room_id == room_id, DiarySession.session_date == day,
        DiarySession.period == period,
        DiarySession.status == DiarySessionStatus.OPEN)) is not None


def _check_overlaps(session: Session, record: Disruption) -> None:
    """No two active disruptions claim the same room-session, or a site's role on a day."""
    others = session.scalars(select(Disruption).where(
        Disruption.state == DisruptionState.ACTIVE,
        col(Disruption.first_day) <= record.last_day,
        col(Disruption.last_day) >= record.first_day))
    mine = set(_footprint(session, record))
    for other in others:
        shared = mine & set(_footprint(session, other))
        if shared:
            raise InvalidInput(f"overlaps disruption {other.id} ({_words(min(shared))})",
                               "first_day")


def _footprint(session: Session, record: Disruption) -> Iterator[tuple]:
    days = [record.first_day + timedelta(days=d)
            for d in range((record.last_day - record.first_day).days + 1)]
    if record.kind is DisruptionKind.STAFF_SHORT:
        yield from (("staff", record.site_id, record.role.value, day) for day in days)
        return
    if record.kind in ONE_SESSION:
        yield ("room", record.room_id, record.first_day, record.period.value)
        return
    rooms = ([record.room_id] if record.kind is DisruptionKind.ROOM_DOWN else
             list(session.scalars(select(Room.room_id).where(Room.site_id == record.site_id))))
    for room_id in rooms:
        for day in days:
            for period in PERIODS:
                yield ("room", room_id, day, period.value)


def _words(mark: tuple) -> str:
    if mark[0] == "staff":
        return f"{mark[2]} staff at {mark[1]} on {mark[3]}"
    return f"room {mark[1]} on {mark[2]}, {mark[3]}"


def _audit_view(record: Disruption) -> dict:
    return {"kind": record.kind.value, "room_id": record.room_id, "site_id": record.site_id,
            "role": record.role.value if record.role else None, "people": record.people,
            "first_day": record.first_day.isoformat(), "last_day": record.last_day.isoformat(),
            "period": record.period.value if record.period else None,
            "template_id": record.template_id}

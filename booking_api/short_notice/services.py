"""Joining, changing and leaving the short-notice list. Runs inside the caller's transaction
(the caller commits), writes one audit event per change, and, given `patient_id`, acts on
that patient's own requests only (another patient's is reported as not found)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from booking_api.appointments.services import own_request
from booking_api.audit.services import Actor, record_audit
from booking_api.core.errors import InvalidInput
from booking_api.short_notice.models import ShortNoticeEntry

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIODS = ("morning", "afternoon", "evening")
MAX_KM = 200.0
MAX_NOTICE_HOURS = 14 * 24


@dataclass(frozen=True)
class ShortNoticeWish:
    """When and how far a patient could come at short notice."""

    days: frozenset[str]
    periods: frozenset[str]
    max_km: float
    notice_hours: int

    def __post_init__(self) -> None:
        _known(self.days, WEEKDAYS, "days")
        _known(self.periods, PERIODS, "periods")
        if not 0 < self.max_km <= MAX_KM:
            raise InvalidInput(f"max_km must be more than 0 and at most {MAX_KM:g}", "max_km")
        if not 0 < self.notice_hours <= MAX_NOTICE_HOURS:
            raise InvalidInput(f"notice_hours must be between 1 and {MAX_NOTICE_HOURS}",
                               "notice_hours")


def short_notice_wish(session: Session, request_id: int,
                      patient_id: int | None = None) -> ShortNoticeWish | None:
    """The request's place on the list, or None when it is not on it."""
    entry = _entry(session, request_id, patient_id)
    if entry is None or not entry.active:
        return None
    return ShortNoticeWish(frozenset(entry.days.split(";")), frozenset(entry.periods.split(";")),
                           entry.max_km, entry.notice_hours)


def join_short_notice(session: Session, actor: Actor, request_id: int, wish: ShortNoticeWish,
                      *, now: datetime, patient_id: int | None = None) -> ShortNoticeEntry:
    """Put the request on the list, or change its answers if it is on it already."""
    entry = _entry(session, request_id, patient_id)
    before = _snapshot(entry) if entry is not None else None
    if entry is None:
        request = own_request(session, request_id, patient_id)
        entry = ShortNoticeEntry(request_id=request_id, patient_id=request.patient_id,
                                 days="", periods="", max_km=wish.max_km,
                                 notice_hours=wish.notice_hours, joined_at=now)
    elif not entry.active:
        entry.joined_at = now
    entry.days = ";".join(d for d in WEEKDAYS if d in wish.days)
    entry.periods = ";".join(p for p in PERIODS if p in wish.periods)
    entry.max_km = wish.max_km
    entry.notice_hours = wish.notice_hours
    entry.active, entry.left_at, entry.updated_at = True, None, now
    session.add(entry)
    session.flush()
    record_audit(session, actor, "short_notice.joined" if before is None or not before["active"]
                 else "short_notice.changed", "request", request_id, before=before,
                 after=_snapshot(entry))
    return entry


def leave_short_notice(session: Session, actor: Actor, request_id: int, *, now: datetime,
                       patient_id: int | None = None) -> bool:
    """Take the request off the list; False if it was not on it (nothing changes)."""
    entry = _entry(session, request_id, patient_id)
    if entry is None or not entry.active:
        return False
    before = _snapshot(entry)
    entry.active, entry.left_at, entry.updated_at = False, now, now
    session.add(entry)
    session.flush()
    record_audit(session, actor, "short_notice.left", "request", request_id, before=before,
                 after=_snapshot(entry))
    return True


def _entry(session: Session, request_id: int, patient_id: int | None) -> ShortNoticeEntry | None:
    own_request(session, request_id, patient_id)
    return session.scalar(select(ShortNoticeEntry)
                          .where(ShortNoticeEntry.request_id == request_id))


def _known(values: frozenset[str], allowed: tuple[str, ...], field: str) -> None:
    if not values:
        raise InvalidInput(f"{field} needs at least one of {', '.join(allowed)}", field)
    unknown = sorted(values - set(allowed))
    if unknown:
        raise InvalidInput(f"{field} has unknown values {', '.join(unknown)}; use "
                           f"{', '.join(allowed)}", field)


def _snapshot(entry: ShortNoticeEntry) -> dict[str, object]:
    return {"active": entry.active, "days": entry.days, "periods": entry.periods,
            "max_km": entry.max_km, "notice_hours": entry.notice_hours}

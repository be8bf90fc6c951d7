"""The short-notice list as the pages use it: read a request's wish, join (or change it),
leave; each in a transaction of its own over the `Database`."""

from __future__ import annotations

from datetime import datetime

from booking_api.audit.services import Actor
from booking_api.core.db import Database
from booking_api.short_notice.services import (
    ShortNoticeWish,
    join_short_notice,
    leave_short_notice,
    short_notice_wish,
)


def wish_of(db: Database, request_id: int, patient_id: int) -> ShortNoticeWish | None:
    with db.reading() as session:
        return short_notice_wish(session, request_id, patient_id)


def join(db: Database, actor: Actor, request_id: int, wish: ShortNoticeWish, *,
         now: datetime, patient_id: int) -> None:
    with db.transaction() as session:
        join_short_notice(session, actor, request_id, wish, now=now, patient_id=patient_id)


def leave(db: Database, actor: Actor, request_id: int, *, now: datetime,
          patient_id: int) -> bool:
    with db.transaction() as session:
        return leave_short_notice(session, actor, request_id, now=now, patient_id=patient_id)

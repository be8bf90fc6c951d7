"""Server-side sign-ins: every token names a row of `access_session`, checked on each
request, so a sign-out ends a session at once in every process (a signed token alone would
live until it expired). Rows are written in the sign-in's transaction and purged a day after
they expire."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session

from booking_api.access import tokens
from booking_api.access.models import AccessSession, SignInKind

RETENTION = timedelta(days=1)


def open_session(session: Session, kind: SignInKind, now: datetime, lifetime: timedelta, *,
                 staff_id: int | None = None, patient_id: int | None = None,
                 second_factor: bool = False) -> AccessSession:
    """A new sign-in's row (its id goes into the token)."""
    row = AccessSession(id=tokens.new_session_id(), kind=kind, staff_id=staff_id,
                        patient_id=patient_id, second_factor=second_factor, issued_at=now,
                        expires_at=now + lifetime)
    session.add(row)
    session.execute(delete(AccessSession).where(AccessSession.expires_at < now - RETENTION))
    return row


def revoke_session(session: Session, session_id: str, now: datetime) -> bool:
    """End one sign-in; False when it was already ended (or never existed)."""
    ended = session.execute(update(AccessSession).where(
        AccessSession.id == session_id, AccessSession.revoked_at.is_(None))
        .values(revoked_at=now))
    return bool(ended.rowcount)


def revoke_all_sessions(session: Session, now: datetime, *, staff_id: int | None = None,
                        patient_id: int | None = None) -> int:
    """End every open sign-in of one staff member or one patient; how many were open."""
    owner = (AccessSession.staff_id == staff_id if staff_id is not None
             else AccessSession.patient_id == patient_id)
    ended = session.execute(update(AccessSession).where(
        owner, AccessSession.revoked_at.is_(None), AccessSession.expires_at > now)
        .values(revoked_at=now))
    return int(ended.rowcount or 0)

"""Staff accounts as the console's admin page lists them (no password hashes)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from booking_api.access.models import AccountRole, StaffUser
from booking_api.core.db import Database


@dataclass(frozen=True)
class StaffAccount:
    username: str
    display_name: str
    role: AccountRole
    active: bool


def staff_accounts(db: Database) -> tuple[StaffAccount, ...]:
    with db.reading() as session:
        return tuple(StaffAccount(u, n, AccountRole(r), a) for u, n, r, a in session.execute(
            select(StaffUser.username, StaffUser.display_name, StaffUser.role,
                   StaffUser.active).order_by(StaffUser.username)))

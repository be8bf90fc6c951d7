"""Demo staff accounts, one per role, with a published password: made by `cdip seed` only
when the service runs in demo mode (a production database never gets them)."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlmodel import Session

from booking_api.access.models import AccountRole, StaffCreate, StaffUser
from booking_api.access.services import create_staff
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel
from booking_api.core.config import Environment

DEMO_STAFF_PASSWORD = "imaging-network-demo"
DEMO_STAFF = (("demo.clerk", "Dee Clerk", AccountRole.CLERK),
              ("demo.vetting", "Dr Vic Vetting", AccountRole.VETTING),
              ("demo.manager", "Mo Manager", AccountRole.MANAGER),
              ("demo.admin", "Ada Admin", AccountRole.ADMIN))
_SEED_ACTOR = Actor(f"{Channel.SEED}:demo", Channel.SEED)


class NotDemoMode(RuntimeError):
    """Demo accounts asked for outside demo mode."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: AccountRole
    added: bool


def ensure_demo_staff(session: Session, environment: Environment,
                      hasher: PasswordHasher) -> list[DemoAccount]:
    """Add the demo accounts that are missing (existing ones are left as they are)."""
    if environment is not Environment.DEMO:
        raise NotDemoMode(f"demo staff accounts are made only when CDIP_ENVIRONMENT is demo, "
                          f"not {environment}")
    existing = set(session.scalars(select(StaffUser.username).where(
        StaffUser.username.in_([username for username, _, _ in DEMO_STAFF]))))
    accounts = []
    for username, display_name, role in DEMO_STAFF:
        if username not in existing:
            create_staff(session, _SEED_ACTOR, StaffCreate(
                username=username, display_name=display_name, role=role,
                password=DEMO_STAFF_PASSWORD), hasher)
        accounts.append(DemoAccount(username, role, added=username not in existing))
    return accounts

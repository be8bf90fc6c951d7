"""What the demo leaves in a database that production must not run with: the demo staff
accounts (their password is published in the README) and the fictional patients `cdip seed`
adds. A production service refuses to start while any remain (`refuse_demo_leftovers`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, distinct, func, inspect, select
from sqlmodel import Session

from booking_api.access.demo_staff import DEMO_STAFF
from booking_api.access.models import StaffUser
from booking_api.demo.seed import SEED_ACTOR
from booking_api.requests.models import Request, RequestEvent


class DemoLeftovers(RuntimeError):
    """A production database still holds demo accounts or patients; the message names them
    and says what to do."""


@dataclass(frozen=True)
class Leftovers:
    staff_usernames: tuple[str, ...]
    """Active demo staff accounts (an inactive one cannot sign in)."""
    patients: int
    """Patients whose requests `cdip seed` made."""

    @property
    def any(self) -> bool:
        return bool(self.staff_usernames) or self.patients > 0


def find_demo_leftovers(engine: Engine) -> Leftovers:
    """What the demo left (nothing in a database not migrated yet: `cdip serve` refuses
    that on its own)."""
    if not inspect(engine).has_table(StaffUser.__tablename__):
        return Leftovers((), 0)
    with Session(engine) as session:
        usernames = tuple(session.scalars(
            select(StaffUser.username)
            .where(StaffUser.username.in_([name for name, _, _ in DEMO_STAFF]),
                   StaffUser.active.is_(True))
            .order_by(StaffUser.username)))
        patients = session.scalar(
            select(func.count(distinct(Request.patient_id)))
            .join(RequestEvent, RequestEvent.request_id == Request.id)
            .where(RequestEvent.actor == SEED_ACTOR)) or 0
    return Leftovers(usernames, patients)


def refuse_demo_leftovers(engine: Engine) -> None:
    """Raise DemoLeftovers when the database holds anything the demo made."""
    found = find_demo_leftovers(engine)
    problems = []
    if found.staff_usernames:
        problems.append(
            f"demo staff account(s) {', '.join(found.staff_usernames)} with the published "
            f"password are active (deactivate them: `cdip staff deactivate USERNAME`)")
    if found.patients:
        problems.append(
            f"{found.patients} demo patient(s) made by `cdip seed` are in the database "
            f"(production needs a database that was never seeded with demo data)")
    if problems:
        raise DemoLeftovers("CDIP_ENVIRONMENT is production but " + "; ".join(problems))

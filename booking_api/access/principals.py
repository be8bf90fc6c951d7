"""Who a signed-in request acts for: a staff member with a role, or a patient with the
requests they may see. Plain frozen values, built from a verified token and the database."""

from __future__ import annotations

from dataclasses import dataclass

from booking_api.access.models import AccountRole
from booking_api.audit.services import Actor
from booking_api.core.channel import Channel


@dataclass(frozen=True)
class StaffPrincipal:
    staff_id: int
    username: str
    display_name: str
    role: AccountRole
    session_id: str = ""
    """The sign-in this request's token belongs to (what signing out ends)."""
    second_factor_missing: bool = False
    """The role needs a one-time code at sign-in and this sign-in had none: until two-step
    sign-in is set up, only the caller's own account routes admit it."""
    second_factor: bool = False
    """This sign-in was made with a one-time code (or the account turned two-step sign-in
    on during it): the account has a second factor."""

    @property
    def subject(self) -> str:
        """Who the token names, `staff:<id>` (idempotency keys are scoped by it)."""
        return f"staff:{self.staff_id}"

    @property
    def actor(self) -> Actor:
        """For audit events: `clerk:jsmith` through the clerk channel."""
        return Actor(name=f"{self.role}:{self.username}", channel=Channel.CLERK,
                     role=str(self.role))


@dataclass(frozen=True)
class PatientPrincipal:
    patient_id: int
    signed_in_request_id: int
    request_ids: frozenset[int]
    session_id: str = ""

    @property
    def subject(self) -> str:
        return f"patient:{self.patient_id}"

    @property
    def actor(self) -> Actor:
        return Actor(name=f"patient:{self.patient_id}", channel=Channel.PORTAL, role="patient")

    def may_see_request(self, request_id: int) -> bool:
        return request_id in self.request_ids

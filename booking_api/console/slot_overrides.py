"""Booking a time the slot rules refuse, on a patient's behalf: which free times only an
override stands between the request and, which rules stand in the way of each and who may set
each aside, and the booking itself. A rule is set aside either by the clerk (when the rule
lets their role), with a reason given for it at booking, or beforehand on the request by
someone with the authority the rule asks for (a radiologist, from the request's page: the
existing `rule_override` record, ruleset `slot_eligibility`). The booking takes the slot by the
one race-free path (`book_on_behalf` / `reschedule`), which checks every rule again with
exactly those overrides; the overrides, who made them and why are in the booking's audit
event, shown on the request's page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from booking_api.access.models import AccountRole
from booking_api.appointments import flows as booking
from booking_api.appointments.taking import slot_run
from booking_api.audit.services import Actor
from booking_api.console.search import ClerkSearch, query_of
from booking_api.console.steps import OVERRIDE_ROLES
from booking_api.core.db import Database
from booking_api.requests.rule_facts import request_overrides
from booking_api.search.index import SlotIndex
from booking_api.search.services import SlotOffer, search_refused_slots
from booking_api.slots.eligibility import (
    load_request_and_slot,
    slot_eligibility_rules,
    slot_refusals,
    slot_request_for,
)
from slot_rules.eligibility import SlotVerdict
from slot_rules.overrides import Override, OverrideRole

SLOT_RULES = "slot_eligibility"


@dataclass(frozen=True)
class RuleInTheWay:
    rule_id: str
    reason: str
    """The rule's own words on why this time is refused."""
    set_aside: Override | None
    """Already set aside for this request (who, in what role, why)."""
    yours: bool
    """This member of staff may set it aside themselves, with a reason."""
    who_may: str
    """Who may set it aside, for the clerk to ask: 'radiologist', 'clerk, radiologist'…"""

    @property
    def open(self) -> bool:
        """Still in the way: nobody has set it aside and this clerk may not."""
        return self.set_aside is None and not self.yours


@dataclass(frozen=True)
class RefusedTime:
    offer: SlotOffer
    rules: tuple[RuleInTheWay, ...]

    @property
    def bookable(self) -> bool:
        return not any(rule.open for rule in self.rules)


def refused_times(db: Database, index: SlotIndex, request_id: int, search: ClerkSearch,
                  account_role: str, *, now: datetime) -> list[RefusedTime]:
    """Free times the rules refuse this request that an override could open, best first."""
    with db.reading() as session:
        found = search_refused_slots(session, index, request_id, query_of(search), now=now)
        recorded = _recorded(session, request_id)
    return [RefusedTime(refused.offer, _in_the_way(refused.refusals, recorded, account_role))
            for refused in found]


def rules_in_the_way(db: Database, request_id: int, slot_id: int, account_role: str, *,
                     now: datetime) -> tuple[RuleInTheWay, ...]:
    """The rules that refuse this slot to the request now (none: it may simply be booked);
    NotFound for an unknown request or slot."""
    with db.reading() as session:
        facts, (first, room, site) = load_request_and_slot(session, request_id, slot_id)
        slots = slot_run(session, first, facts.exam.duration_min)
        refusals = slot_refusals(slot_request_for(facts, now), slots, room, site, now)
        return _in_the_way(refusals, _recorded(session, request_id), account_role)


def book_overriding(db: Database, actor: Actor, request_id: int, slot_id: int, reason: str,
                    own: Mapping[str, str], *, now: datetime,
                    moving: int | None = None) -> int:
    """Book (or move the booking `moving` to) a slot the rules refuse, setting aside the
    rules in `own` (rule id → the clerk's reason) and those recorded on the request; every
    other rule still applies (SlotNotEligible, OverrideNotAllowed naming the rule). Returns
    the new appointment's id; the patient is told through the outbox."""
    with db.transaction() as session:
        recorded = request_overrides(session, request_id, SLOT_RULES)
        mine = [booking.RuleOverride(rule_id, text) for rule_id, text in own.items()]
        if moving is None:
            booked = booking.book_on_behalf(session, actor, request_id, slot_id, reason=reason,
                                            overrides=mine, set_aside=recorded, now=now)
        else:
            booked = booking.reschedule(session, actor, moving, slot_id, reason=reason,
                                        now=now, overrides=[
                                            *booking.staff_overrides(actor, mine), *recorded])
        assert booked.id is not None
        return booked.id


def slot_rules_to_set_aside(account_role: str) -> list[tuple[str, str]]:
    """(rule id, description) of the slot rules this account may set aside for a request
    ahead of booking (a radiologist's authority for the clinical window, say)."""
    roles = set(OVERRIDE_ROLES.get(AccountRole(account_role), ()))
    return [(rule.rule_id, rule.meta.description) for rule in slot_eligibility_rules().rules
            if rule.meta.overridable and roles & rule.meta.override_roles]


def _recorded(session, request_id: int) -> dict[str, Override]:
    return {o.rule_id: o for o in request_overrides(session, request_id, SLOT_RULES)}


def _in_the_way(refusals: Sequence[SlotVerdict], recorded: Mapping[str, Override],
                account_role: str) -> tuple[RuleInTheWay, ...]:
    meta = {rule.rule_id: rule.meta for rule in slot_eligibility_rules().rules}
    roles: tuple[OverrideRole, ...] = OVERRIDE_ROLES.get(AccountRole(account_role), ())
    clerk_role = booking.OVERRIDE_ROLE_OF_STAFF.get(account_role)
    lines = []
    for verdict in refusals:
        rule = meta[verdict.rule_id]
        allowed = rule.override_roles if rule.overridable else frozenset()
        lines.append(RuleInTheWay(
            verdict.rule_id, verdict.reason, recorded.get(verdict.rule_id),
            yours=clerk_role in allowed and clerk_role in roles,
            who_may=", ".join(sorted(allowed)) or "no one"))
    return tuple(lines)

"""How the times booking_api offers are shown: one choice per start time, the chosen room
first, the nearest other times when one was just taken, and a day's times in three parts."""

from __future__ import annotations

from datetime import datetime

from booking_api.search.services import SlotOffer
from patient_portal.rendering import LONDON

NEAREST_OTHER_TIMES = 5
NOON, EVENING = 12, 17


def one_per_time(offers: list[SlotOffer]) -> list[SlotOffer]:
    """One offer per start time (several rooms may be free at 9am; the patient chooses a
    time, not a room), in time order."""
    firsts: dict[datetime, SlotOffer] = {}
    for offer in offers:
        firsts.setdefault(offer.start_at, offer)
    return sorted(firsts.values(), key=lambda s: s.start_at)


def same_time(offers: list[SlotOffer], chosen: SlotOffer) -> list[SlotOffer]:
    """The chosen offer first, then the other free slots starting at the same time."""
    return [chosen] + [o for o in offers if o.start_at == chosen.start_at and o != chosen]


def parts_of_day(offers: list[SlotOffer]) -> list[tuple[str, list[SlotOffer]]]:
    """Times grouped as morning (before 12pm), afternoon (to 5pm) and evening, in UK time,
    leaving out empty parts: a day's fifty times are easier to scan in three short lists."""
    groups: dict[str, list[SlotOffer]] = {"Morning": [], "Afternoon": [], "Evening": []}
    for offer in sorted(offers, key=lambda o: o.start_at):
        hour = offer.start_at.astimezone(LONDON).hour
        part = "Morning" if hour < NOON else "Afternoon" if hour < EVENING else "Evening"
        groups[part].append(offer)
    return [(part, times) for part, times in groups.items() if times]


def nearest_times(offers: list[SlotOffer], wanted: datetime) -> list[SlotOffer]:
    """The few free times closest to the one the patient wanted, in time order."""
    closest = sorted(one_per_time(offers),
                     key=lambda s: abs((s.start_at - wanted).total_seconds()))
    return sorted(closest[:NEAREST_OTHER_TIMES], key=lambda s: s.start_at)

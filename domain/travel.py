"""How far apart one patient's appointments must be: the same patient cannot be in two
rooms at once, and between two sites needs time to get from one to the other.

The rule (documented in docs/booking-service.md and the hazard log): two live appointments
of one patient may not overlap; at different sites the gap between them must be at least
the travel allowance below. Road distance and journey time are estimated from the sites'
coordinates (we hold no road network): great-circle km × ROAD_FACTOR at TRAVEL_SPEED_KMH,
plus a fixed allowance for leaving one department and checking in at the next, rounded up
to 5 minutes. At the same site the allowance is nothing, so exams can run back to back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.geography import haversine_km

ROAD_FACTOR = 1.3
"""Road km per straight-line km, a typical circuity for UK roads."""
TRAVEL_SPEED_KMH = 30.0
"""Door-to-door speed between sites by car or bus in the region, parking included."""
CHANGEOVER_MIN = 15
"""Leaving one department (changing, a cannula out) and checking in at the next site."""
ROUND_TO_MIN = 5


@dataclass(frozen=True)
class Place:
    """Where an appointment is: its site and the site's coordinates."""

    site_id: str
    lat: float
    lon: float


def travel_allowance(a: Place, b: Place) -> timedelta:
    """The least gap a patient needs between appointments at `a` and `b`."""
    if a.site_id == b.site_id:
        return timedelta()
    km = haversine_km(a.lat, a.lon, b.lat, b.lon)
    minutes = CHANGEOVER_MIN + km * ROAD_FACTOR / TRAVEL_SPEED_KMH * 60
    return timedelta(minutes=math.ceil(minutes / ROUND_TO_MIN) * ROUND_TO_MIN)


def clashes(start: datetime, end: datetime, place: Place, other_start: datetime,
            other_end: datetime, other_place: Place) -> bool:
    """Whether one patient cannot attend both [start, end) at `place` and the other time at
    `other_place`: they overlap, or leave less than the travel allowance between them."""
    gap = max(other_start - end, start - other_end)
    return gap < travel_allowance(place, other_place)

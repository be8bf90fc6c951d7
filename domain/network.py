"""The imaging network as plain data (systems, trusts, sites, rooms, staff, demand areas), and
reading it from the folder of CSV files that describes it. Validation of the whole lives in
`network_check`; this module only parses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from functools import cached_property
from pathlib import Path

from domain.data_files import (
    Column,
    boolean,
    clock_time,
    list_of,
    non_negative_integer,
    number,
    one_of,
    read_table,
    text,
)
from domain.vocabulary import (
    CHILD_UNDER_YEARS,
    AgeBand,
    Capability,
    Modality,
    SiteKind,
    StaffRole,
)

REFERENCE_NETWORK_DIR = Path(__file__).parent / "reference_network"


@dataclass(frozen=True)
class IntegratedCareSystem:
    ics_id: str
    name: str


@dataclass(frozen=True)
class Trust:
    trust_id: str
    name: str
    ics_id: str


@dataclass(frozen=True)
class OpeningHours:
    """One day's opening; None on both ends means closed that day."""

    opens: time | None
    closes: time | None

    @property
    def is_open(self) -> bool:
        return self.opens is not None and self.closes is not None


@dataclass(frozen=True)
class Site:
    site_id: str
    name: str
    trust_id: str
    kind: SiteKind
    postcode_district: str
    lat: float
    lon: float
    weekday: OpeningHours
    saturday: OpeningHours
    sunday: OpeningHours
    step_free: bool
    hoist: bool
    parking: str
    public_transport: str
    age_limit_years: int | None = None
    """Patients must be younger than this (a children's hospital); None: all ages."""

    @property
    def is_cdc(self) -> bool:
        return self.kind is SiteKind.CDC

    def admits(self, band: AgeBand) -> bool:
        """Whether every patient of the age band is young enough for the site."""
        if self.age_limit_years is None:
            return True
        return band is AgeBand.CHILD and self.age_limit_years >= CHILD_UNDER_YEARS

    def hours_on(self, weekday: int) -> OpeningHours:
        """Opening hours for a weekday number (Monday is 0)."""
        if weekday < 5:
            return self.weekday
        return self.saturday if weekday == 5 else self.sunday


@dataclass(frozen=True)
class Room:
    room_id: str
    site_id: str
    name: str
    modality: Modality
    capabilities: frozenset[Capability]
    max_weight_kg: int


@dataclass(frozen=True)
class StaffGroup:
    """Staff of one role at one site, pooled: what the diary builder may roster."""

    staff_group_id: str
    site_id: str
    role: StaffRole
    skills: frozenset[str]
    headcount: int
    sessions_per_week: int
    """Person-sessions the WHOLE group can staff in a week (not per person); at most
    `headcount` of them fall in any one session."""
    works_evenings: bool
    works_weekends: bool


@dataclass(frozen=True)
class DemandArea:
    """A postcode district whose patients are referred for imaging."""

    area_id: str
    name: str
    ics_id: str
    lat: float
    lon: float
    population_weight: float
    imd_decile: int


@dataclass(frozen=True)
class Network:
    icss: tuple[IntegratedCareSystem, ...]
    trusts: tuple[Trust, ...]
    sites: tuple[Site, ...]
    rooms: tuple[Room, ...]
    staff_groups: tuple[StaffGroup, ...]
    demand_areas: tuple[DemandArea, ...]

    @cached_property
    def site_by_id(self) -> dict[str, Site]:
        return {site.site_id: site for site in self.sites}

    @cached_property
    def trust_by_id(self) -> dict[str, Trust]:
        return {trust.trust_id: trust for trust in self.trusts}

    @cached_property
    def area_by_id(self) -> dict[str, DemandArea]:
        return {area.area_id: area for area in self.demand_areas}

    def rooms_at(self, site_id: str) -> list[Room]:
        return [room for room in self.rooms if room.site_id == site_id]

    def staff_at(self, site_id: str) -> list[StaffGroup]:
        return [group for group in self.staff_groups if group.site_id == site_id]


NETWORK_FILES = {
    "icss": "icss.csv",
    "trusts": "trusts.csv",
    "sites": "sites.csv",
    "rooms": "rooms.csv",
    "staff_groups": "staff_groups.csv",
    "demand_areas": "demand_areas.csv",
}

_SKILL_CODES = {m.value for m in Modality} | {c.value for c in Capability}


def _skill(value: str) -> str:
    if value not in _SKILL_CODES:
        raise ValueError(f"'{value}' is not a modality or capability code")
    return value


def _decile(value: str) -> int:
    decile = non_negative_integer(value)
    if not 1 <= decile <= 10:
        raise ValueError(f"{decile} is not a decile from 1 to 10")
    return decile


def _positive_integer(value: str) -> int:
    parsed = non_negative_integer(value)
    if parsed == 0:
        raise ValueError("0 is not a positive whole number")
    return parsed


def _positive_number(value: str) -> float:
    parsed = number(value)
    if parsed <= 0:
        raise ValueError(f"{parsed} is not positive")
    return parsed


_COLUMNS = {
    "icss": [Column("ics_id", text), Column("name", text)],
    "trusts": [Column("trust_id", text), Column("name", text), Column("ics_id", text)],
    "sites": [
        Column("site_id", text), Column("name", text), Column("trust_id", text),
        Column("kind", one_of(SiteKind)), Column("postcode_district", text),
        Column("lat", number), Column("lon", number),
        Column("weekday_open", clock_time), Column("weekday_close", clock_time),
        Column("saturday_open", clock_time, required=False),
        Column("saturday_close", clock_time, required=False),
        Column("sunday_open", clock_time, required=False),
        Column("sunday_close", clock_time, required=False),
        Column("step_free", boolean), Column("hoist", boolean),
        Column("parking", text), Column("public_transport", text),
        Column("age_limit_years", _positive_integer, required=False),
    ],
    "rooms": [
        Column("room_id", text), Column("site_id", text), Column("name", text),
        Column("modality", one_of(Modality)),
        Column("capabilities", list_of(one_of(Capability)), required=False),
        Column("max_weight_kg", non_negative_integer),
    ],
    "staff_groups": [
        Column("staff_group_id", text), Column("site_id", text),
        Column("role", one_of(StaffRole)), Column("skills", list_of(_skill)),
        Column("headcount", non_negative_integer),
        Column("sessions_per_week", non_negative_integer),
        Column("works_evenings", boolean), Column("works_weekends", boolean),
    ],
    "demand_areas": [
        Column("area_id", text), Column("name", text), Column("ics_id", text),
        Column("lat", number), Column("lon", number),
        Column("population_weight", _positive_number), Column("imd_decile", _decile),
    ],
}


def load_network(directory: Path = REFERENCE_NETWORK_DIR) -> Network:
    """Parse every file of a network folder; raises DataFileError on the first bad cell."""
    rows = {key: read_table(directory / name, _COLUMNS[key]) for key, name in NETWORK_FILES.items()}
    return Network(
        icss=tuple(IntegratedCareSystem(**row) for row in rows["icss"]),
        trusts=tuple(Trust(**row) for row in rows["trusts"]),
        sites=tuple(_site(row) for row in rows["sites"]),
        rooms=tuple(_room(row) for row in rows["rooms"]),
        staff_groups=tuple(_staff_group(row) for row in rows["staff_groups"]),
        demand_areas=tuple(DemandArea(**row) for row in rows["demand_areas"]),
    )


def load_reference_network() -> Network:
    """The illustrative West Midlands-scale network shipped with the code."""
    return load_network(REFERENCE_NETWORK_DIR)


def _site(row: dict) -> Site:
    return Site(
        site_id=row["site_id"], name=row["name"], trust_id=row["trust_id"], kind=row["kind"],
        postcode_district=row["postcode_district"], lat=row["lat"], lon=row["lon"],
        weekday=OpeningHours(row["weekday_open"], row["weekday_close"]),
        saturday=OpeningHours(row["saturday_open"], row["saturday_close"]),
        sunday=OpeningHours(row["sunday_open"], row["sunday_close"]),
        step_free=row["step_free"], hoist=row["hoist"],
        parking=row["parking"], public_transport=row["public_transport"],
        age_limit_years=row["age_limit_years"],
    )


def _room(row: dict) -> Room:
    return Room(
        room_id=row["room_id"], site_id=row["site_id"], name=row["name"],
        modality=row["modality"], capabilities=frozenset(row["capabilities"] or ()),
        max_weight_kg=row["max_weight_kg"],
    )


def _staff_group(row: dict) -> StaffGroup:
    return StaffGroup(**{**row, "skills": frozenset(row["skills"])})

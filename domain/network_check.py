"""Validation of a whole network: references between files, unique ids, places inside the
region, sane opening hours, room capabilities and staff skills that fit, and the totals.

It reports every problem it finds (it never stops at the first) and never changes the network.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from domain.data_files import DataFileError
from domain.geography import REGION_LAT, REGION_LON, haversine_km, inside_region
from domain.network import NETWORK_FILES, Network, OpeningHours, Site, load_network
from domain.vocabulary import Capability, Modality, StaffRole

EARLIEST_OPENING = time(6, 0)
LATEST_CLOSING = time(23, 0)
MAX_KM_FROM_POSTCODE_DISTRICT = 15.0
MAX_SESSIONS_PER_HEAD = 10
ROOM_WEIGHT_LIMITS_KG = (100, 400)
BARIATRIC_MIN_WEIGHT_KG = 200

CAPABILITY_MODALITIES: dict[Capability, frozenset[Modality]] = {
    Capability.MR_3T: frozenset({Modality.MR}),
    Capability.WIDE_BORE: frozenset({Modality.CT, Modality.MR}),
    Capability.CARDIAC: frozenset({Modality.CT, Modality.MR}),
    Capability.CONTRAST_INJECTOR: frozenset({Modality.CT, Modality.MR}),
    Capability.FLUOROSCOPY: frozenset({Modality.XR}),
    Capability.BARIATRIC: frozenset(Modality),
    Capability.PAEDIATRIC: frozenset(Modality),
}
"""The modalities a room of each capability can have."""

CLINICAL_SKILLS = frozenset({Capability.CARDIAC, Capability.PAEDIATRIC, Capability.FLUOROSCOPY})
"""Capabilities that are skills of people; the others (3T, wide bore...) are equipment."""

ROLE_MODALITIES: dict[StaffRole, frozenset[Modality]] = {
    StaffRole.RADIOGRAPHER: frozenset({Modality.XR, Modality.CT, Modality.MR}),
    StaffRole.SONOGRAPHER: frozenset({Modality.US}),
    StaffRole.RADIOLOGIST: frozenset(Modality),
}


@dataclass(frozen=True)
class NetworkTotals:
    trusts: int
    icss: int
    sites: int
    cdcs: int
    rooms: int
    rooms_by_modality: dict[str, int]
    """Rooms per modality code, in the order XR, US, CT, MR."""

    def as_dict(self) -> dict[str, object]:
        return {"trusts": self.trusts, "icss": self.icss, "sites": self.sites,
                "cdcs": self.cdcs, "rooms": self.rooms,
                "rooms_by_modality": dict(self.rooms_by_modality)}


REFERENCE_TOTALS = NetworkTotals(trusts=15, icss=6, sites=47, cdcs=14, rooms=797,
                                 rooms_by_modality={"XR": 290, "US": 371, "CT": 73, "MR": 63})
"""The West Midlands Imaging Network's published totals, which the reference network matches."""


@dataclass(frozen=True)
class NetworkProblem:
    """One thing wrong, placed as precisely as the check can: file, row, record id, field."""

    file: str
    problem: str
    row: int | None = None
    record: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.record is not None:
            where += f" ('{self.record}')"
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class NetworkReport:
    totals: NetworkTotals | None
    """None when the files could not be read at all."""
    problems: tuple[NetworkProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of `cdip network check --json`."""
        counts = (self.totals.as_dict() if self.totals else
                  dict.fromkeys(("trusts", "icss", "sites", "cdcs", "rooms",
                                 "rooms_by_modality")))
        return {**counts, "problems": [str(problem) for problem in self.problems]}


def network_totals(network: Network) -> NetworkTotals:
    by_modality = Counter(room.modality for room in network.rooms)
    return NetworkTotals(
        trusts=len(network.trusts), icss=len(network.icss), sites=len(network.sites),
        cdcs=sum(1 for site in network.sites if site.is_cdc), rooms=len(network.rooms),
        rooms_by_modality={m.value: by_modality.get(m, 0) for m in Modality},
    )


def check_network(network: Network, expected: NetworkTotals | None = None) -> NetworkReport:
    """Every problem in a parsed network; totals are compared only when `expected` is given
    (a trust checking its own smaller network passes None)."""
    totals = network_totals(network)
    problems = [
        *_check_icss(network), *_check_trusts(network), *_check_sites(network),
        *_check_rooms(network), *_check_staff(network), *_check_areas(network),
    ]
    if expected is not None:
        problems += _check_totals(totals, expected)
    return NetworkReport(totals=totals, problems=tuple(problems))


def check_network_folder(directory: Path, expected: NetworkTotals | None = None) -> NetworkReport:
    """Load and check a folder; a file that cannot be parsed becomes the report's one problem."""
    try:
        network = load_network(directory)
    except DataFileError as error:
        problem = NetworkProblem(file=Path(error.file).name, problem=error.problem,
                                 row=error.row, field=error.field)
        return NetworkReport(totals=None, problems=(problem,))
    return check_network(network, expected)


def _rows(records: Iterable) -> Iterator[tuple[int, object]]:
    """Records with their CSV row numbers (the header is row 1)."""
    return enumerate(records, start=2)


def _duplicates(file: str, id_field: str, ids: Iterable[str]) -> list[NetworkProblem]:
    first_row: dict[str, int] = {}
    problems = []
    for row, record_id in _rows(ids):
        if record_id in first_row:
            problems.append(NetworkProblem(file, f"duplicate id, first used at row "
                                           f"{first_row[record_id]}", row, record_id, id_field))
        else:
            first_row[record_id] = row
    return problems


def _check_icss(network: Network) -> list[NetworkProblem]:
    return _duplicates(NETWORK_FILES["icss"], "ics_id", (ics.ics_id for ics in network.icss))


def _check_trusts(network: Network) -> list[NetworkProblem]:
    file = NETWORK_FILES["trusts"]
    problems = _duplicates(file, "trust_id", (trust.trust_id for trust in network.trusts))
    ics_ids = {ics.ics_id for ics in network.icss}
    for row, trust in _rows(network.trusts):
        if trust.ics_id not in ics_ids:
            problems.append(NetworkProblem(file, f"unknown ICS '{trust.ics_id}' (not in "
                                           f"{NETWORK_FILES['icss']})", row, trust.trust_id,
                                           "ics_id"))
    return problems


def _check_sites(network: Network) -> list[NetworkProblem]:
    file = NETWORK_FILES["sites"]
    problems = _duplicates(file, "site_id", (site.site_id for site in network.sites))
    sites_with_rooms = {room.site_id for room in network.rooms}
    for row, site in _rows(network.sites):
        found: list[tuple[str, str]] = []
        if site.trust_id not in network.trust_by_id:
            found.append(("trust_id", f"unknown trust '{site.trust_id}' (not in "
                                      f"{NETWORK_FILES['trusts']})"))
        found += _place_problems(site.lat, site.lon)
        found += _distance_from_district(network, site)
        for day, hours in (("weekday", site.weekday), ("saturday", site.saturday),
                           ("sunday", site.sunday)):
            found += _hours_problems(day, hours, required=day == "weekday")
        if site.site_id not in sites_with_rooms:
            found.append(("site_id", f"the site has no rooms in {NETWORK_FILES['rooms']}"))
        problems += [NetworkProblem(file, text, row, site.site_id, name) for name, text in found]
    return problems


def _place_problems(lat: float, lon: float) -> list[tuple[str, str]]:
    if inside_region(lat, lon):
        return []
    found = []
    if not REGION_LAT[0] <= lat <= REGION_LAT[1]:
        found.append(("lat", f"{lat} is outside the region (latitude {REGION_LAT[0]} to "
                             f"{REGION_LAT[1]})"))
    if not REGION_LON[0] <= lon <= REGION_LON[1]:
        found.append(("lon", f"{lon} is outside the region (longitude {REGION_LON[0]} to "
                             f"{REGION_LON[1]})"))
    return found


def _distance_from_district(network: Network, site: Site) -> list[tuple[str, str]]:
    """A site far from its own postcode district's centre has mistyped coordinates or district."""
    area = network.area_by_id.get(site.postcode_district)
    if area is None or not inside_region(site.lat, site.lon):
        return []
    km = haversine_km(site.lat, site.lon, area.lat, area.lon)
    if km <= MAX_KM_FROM_POSTCODE_DISTRICT:
        return []
    return [("postcode_district", f"the site is {km:.0f} km from the centre of "
                                  f"{site.postcode_district} (at most "
                                  f"{MAX_KM_FROM_POSTCODE_DISTRICT:.0f} km expected)")]


def _hours_problems(day: str, hours: OpeningHours, required: bool) -> list[tuple[str, str]]:
    opens, closes = hours.opens, hours.closes
    if opens is None and closes is None:
        return [] if not required else [(f"{day}_open", "is blank but required")]
    if opens is None or closes is None:
        blank, given = ("open", "close") if opens is None else ("close", "open")
        return [(f"{day}_{blank}", f"is blank but {day}_{given} is set: give both times, "
                                   "or neither for a day the site is closed")]
    found = []
    if not EARLIEST_OPENING <= opens <= LATEST_CLOSING:
        found.append((f"{day}_open", f"{opens:%H:%M} is outside "
                                     f"{EARLIEST_OPENING:%H:%M}-{LATEST_CLOSING:%H:%M}"))
    if not EARLIEST_OPENING <= closes <= LATEST_CLOSING:
        found.append((f"{day}_close", f"{closes:%H:%M} is outside "
                                      f"{EARLIEST_OPENING:%H:%M}-{LATEST_CLOSING:%H:%M}"))
    if opens >= closes:
        found.append((f"{day}_close", f"closing time {closes:%H:%M} is not after opening "
                                      f"time {opens:%H:%M}"))
    return found


def _check_rooms(network: Network) -> list[NetworkProblem]:
    file = NETWORK_FILES["rooms"]
    problems = _duplicates(file, "room_id", (room.room_id for room in network.rooms))
    for row, room in _rows(network.rooms):
        found: list[tuple[str, str]] = []
        if room.site_id not in network.site_by_id:
            found.append(("site_id", f"unknown site '{room.site_id}' (not in "
                                     f"{NETWORK_FILES['sites']})"))
        for capability in sorted(room.capabilities):
            allowed = CAPABILITY_MODALITIES[capability]
            if room.modality not in allowed:
                found.append(("capabilities", f"{capability} is not allowed on {room.modality} "
                                              f"rooms (only on {_codes(allowed)})"))
        low, high = ROOM_WEIGHT_LIMITS_KG
        if not low <= room.max_weight_kg <= high:
            found.append(("max_weight_kg", f"{room.max_weight_kg} kg is outside {low}-{high} kg"))
        elif (Capability.BARIATRIC in room.capabilities
              and room.max_weight_kg < BARIATRIC_MIN_WEIGHT_KG):
            found.append(("max_weight_kg", f"a BARIATRIC room must take at least "
                                           f"{BARIATRIC_MIN_WEIGHT_KG} kg, not "
                                           f"{room.max_weight_kg}"))
        problems += [NetworkProblem(file, text, row, room.room_id, name) for name, text in found]
    return problems


def _check_staff(network: Network) -> list[NetworkProblem]:
    file = NETWORK_FILES["staff_groups"]
    problems = _duplicates(file, "staff_group_id",
                           (group.staff_group_id for group in network.staff_groups))
    for row, group in _rows(network.staff_groups):
        found: list[tuple[str, str]] = []
        if group.site_id not in network.site_by_id:
            found.append(("site_id", f"unknown site '{group.site_id}' (not in "
                                     f"{NETWORK_FILES['sites']})"))
        found += [("skills", text) for text in _skill_problems(group.role, group.skills)]
        if group.sessions_per_week > group.headcount * MAX_SESSIONS_PER_HEAD:
            found.append(("sessions_per_week", f"{group.sessions_per_week} sessions is more than "
                                               f"{MAX_SESSIONS_PER_HEAD} per head for a "
                                               f"headcount of {group.headcount}"))
        problems += [NetworkProblem(file, text, row, group.staff_group_id, name)
                     for name, text in found]
    return problems


def _skill_problems(role: StaffRole, skills: frozenset[str]) -> list[str]:
    modality_codes = {modality.value for modality in Modality}
    modalities = {Modality(code) for code in skills if code in modality_codes}
    capabilities = {Capability(code) for code in skills if code not in modality_codes}
    allowed = ROLE_MODALITIES[role]
    found = []
    if not modalities:
        found.append(f"a {role} needs at least one modality ({_codes(allowed)})")
    found += [f"a {role} does not run {modality} rooms (only {_codes(allowed)})"
              for modality in sorted(modalities - allowed)]
    for capability in sorted(capabilities):
        if capability not in CLINICAL_SKILLS:
            found.append(f"{capability} is room equipment, not a skill (skills: modalities and "
                         f"{_codes(CLINICAL_SKILLS)})")
        elif modalities and not modalities & CAPABILITY_MODALITIES[capability]:
            found.append(f"{capability} needs one of the modalities "
                         f"{_codes(CAPABILITY_MODALITIES[capability])} in the same skills")
    return found


def _check_areas(network: Network) -> list[NetworkProblem]:
    file = NETWORK_FILES["demand_areas"]
    problems = _duplicates(file, "area_id", (area.area_id for area in network.demand_areas))
    ics_ids = {ics.ics_id for ics in network.icss}
    for row, area in _rows(network.demand_areas):
        found = [] if area.ics_id in ics_ids else [
            ("ics_id", f"unknown ICS '{area.ics_id}' (not in {NETWORK_FILES['icss']})")]
        found += _place_problems(area.lat, area.lon)
        problems += [NetworkProblem(file, text, row, area.area_id, name) for name, text in found]
    return problems


def _check_totals(totals: NetworkTotals, expected: NetworkTotals) -> list[NetworkProblem]:
    counted = [
        (NETWORK_FILES["icss"], None, "ICSs", totals.icss, expected.icss),
        (NETWORK_FILES["trusts"], None, "trusts", totals.trusts, expected.trusts),
        (NETWORK_FILES["sites"], None, "sites", totals.sites, expected.sites),
        (NETWORK_FILES["sites"], "kind", "CDC sites", totals.cdcs, expected.cdcs),
        (NETWORK_FILES["rooms"], None, "rooms", totals.rooms, expected.rooms),
    ]
    counted += [(NETWORK_FILES["rooms"], "modality", f"{code} rooms",
                 totals.rooms_by_modality.get(code, 0), wanted)
                for code, wanted in expected.rooms_by_modality.items()]
    return [NetworkProblem(file, f"{actual} {what}, expected {wanted}", field=name)
            for file, name, what, actual, wanted in counted if actual != wanted]


def _codes(values: Iterable[str]) -> str:
    return ", ".join(sorted(str(value) for value in values))

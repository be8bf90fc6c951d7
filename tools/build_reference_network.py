"""Writes rooms.csv and staff_groups.csv of the reference network from sites.csv and the room
counts below, so the room mix and the staff calibration are rules anyone can read and re-run.

The other four files (icss, trusts, sites, demand_areas) are curated by hand. Output is
deterministic: the only randomness is a fixed-seed draw of each site's staffing level.

    .venv/bin/python tools/build_reference_network.py [OUT_DIR]
    # rewrites the two files (in OUT_DIR if given) and prints the staff calibration
"""

from __future__ import annotations

import csv
import math
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

NETWORK_DIR = Path(__file__).resolve().parent.parent / "domain" / "reference_network"
SEED = 20241001
WEEKDAY_SESSIONS_PER_ROOM = 10
"""Morning and afternoon, Monday to Friday: the yardstick staff are calibrated against."""

# Rooms per site: (XR, US, CT, MR). Totals must be WMIN's 290 / 371 / 73 / 63.
ROOM_COUNTS: dict[str, tuple[int, int, int, int]] = {
    "UHB-QE": (16, 18, 5, 5), "UHB-HGH": (14, 16, 4, 3), "UHB-GHH": (10, 11, 3, 2),
    "UHB-SOL": (7, 8, 2, 1), "UHB-WWH": (3, 6, 1, 1), "UHB-CHW": (2, 4, 1, 0),
    "UHB-KNC": (2, 4, 1, 1), "BWC-BCH": (8, 10, 2, 2), "BWC-BWH": (1, 14, 0, 0),
    "ROH-NF": (6, 3, 1, 2), "SWB-MMUH": (14, 16, 3, 3), "SWB-CITY": (6, 8, 1, 1),
    "SWB-SGH": (5, 6, 1, 0), "SWB-ROW": (3, 4, 0, 0), "DGFT-RHH": (12, 14, 3, 2),
    "DGFT-COC": (3, 5, 0, 0), "DGFT-BHC": (3, 5, 1, 1), "WHT-MH": (10, 12, 3, 2),
    "WHT-WCDC": (2, 4, 1, 1), "RWT-NX": (14, 16, 3, 3), "RWT-WP": (3, 4, 0, 0),
    "RWT-BIL": (2, 4, 1, 1), "UHCW-UHC": (16, 18, 4, 4), "UHCW-SCR": (5, 6, 1, 1),
    "UHCW-CCC": (3, 6, 1, 1), "SWFT-WH": (8, 10, 2, 2), "SWFT-SCDC": (2, 4, 1, 1),
    "SWFT-EB": (2, 3, 0, 0), "GEH-GEH": (8, 9, 2, 1), "GEH-BED": (2, 4, 1, 1),
    "WVT-CH": (8, 9, 2, 2), "WVT-HCDC": (2, 4, 1, 1), "WVT-LEO": (2, 3, 0, 0),
    "WVT-ROSS": (2, 3, 0, 0), "WAHT-WRH": (12, 14, 3, 2), "WAHT-AH": (7, 8, 2, 1),
    "WAHT-KTC": (3, 5, 1, 1), "WAHT-EVE": (2, 3, 0, 0), "SATH-RSH": (10, 11, 3, 2),
    "SATH-PRH": (9, 12, 2, 2), "SATH-HOL": (3, 5, 1, 1), "SATH-LUD": (2, 3, 0, 0),
    "RJAH-OSW": (6, 3, 1, 2), "UHNM-RSUH": (18, 19, 4, 4), "UHNM-CHS": (7, 8, 2, 2),
    "UHNM-HAY": (3, 5, 1, 1), "UHNM-LEEK": (2, 4, 1, 0),
}
MODALITIES = ("XR", "US", "CT", "MR")
ROOM_NAMES = {"XR": "X-ray", "US": "Ultrasound", "CT": "CT", "MR": "MRI"}
STANDARD_WEIGHT_KG = {"XR": 180, "US": 200, "CT": 227, "MR": 200}
BARIATRIC_WEIGHT_KG = 250

CHILDRENS_HOSPITAL = "BWC-BCH"
PAEDIATRIC_UNITS = {"UHB-HGH", "UHCW-UHC", "UHNM-RSUH", "WAHT-WRH"}
"""Acute sites with a children's imaging service: one paediatric room per modality, two in US."""
CARDIAC_MR_SITES = {"UHB-QE", "UHB-HGH", "SWB-MMUH", "RWT-NX", "UHCW-UHC", "UHNM-RSUH",
                    "BWC-BCH"}
ORTHOPAEDIC_SITES = {"ROH-NF", "RJAH-OSW"}
CT_WITHOUT_INJECTOR = {"UHB-KNC", "GEH-BED", "UHNM-LEEK"}
THREE_TESLA_CDC = {"UHB-WWH"}


@dataclass(frozen=True)
class SiteFacts:
    site_id: str
    kind: str
    opens_evenings: bool
    opens_weekends: bool


def main(out_dir: Path = NETWORK_DIR) -> None:
    sites = _read_sites()
    rooms = [room for site in sites for room in _rooms_of(site)]
    groups = _staff_groups(sites, rooms)
    _write(out_dir / "rooms.csv",
           ["room_id", "site_id", "name", "modality", "capabilities", "max_weight_kg"], rooms)
    _write(out_dir / "staff_groups.csv",
           ["staff_group_id", "site_id", "role", "skills", "headcount", "sessions_per_week",
            "works_evenings", "works_weekends"], groups)
    _print_calibration(rooms, groups)


def _read_sites() -> list[SiteFacts]:
    with (NETWORK_DIR / "sites.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    missing = {row["site_id"] for row in rows} ^ set(ROOM_COUNTS)
    if missing:
        sys.exit(f"sites.csv and ROOM_COUNTS disagree on: {', '.join(sorted(missing))}")
    return [SiteFacts(row["site_id"], row["kind"], row["weekday_close"] >= "21:30",
                      bool(row["saturday_open"] or row["sunday_open"])) for row in rows]


def _rooms_of(site: SiteFacts) -> list[dict]:
    rooms = []
    for modality, count in zip(MODALITIES, ROOM_COUNTS[site.site_id], strict=True):
        for number in range(1, count + 1):
            capabilities = _capabilities(site, modality, number, count)
            weight = (BARIATRIC_WEIGHT_KG if "BARIATRIC" in capabilities
                      else STANDARD_WEIGHT_KG[modality])
            rooms.append({
                "room_id": f"{site.site_id}-{modality}{number}", "site_id": site.site_id,
                "name": f"{ROOM_NAMES[modality]} {number}", "modality": modality,
                "capabilities": ";".join(capabilities), "max_weight_kg": weight,
            })
    return rooms


def _capabilities(site: SiteFacts, modality: str, number: int, count: int) -> list[str]:
    """Room capabilities by rule: specialist kit sits in the first rooms of the bigger sites."""
    rules = {"XR": _xr_capabilities, "US": _us_capabilities, "CT": _ct_capabilities,
             "MR": _mr_capabilities}
    found = rules[modality](site, number, count)
    paediatric_numbers = {"XR": (2,), "US": (1, 2), "CT": (2,), "MR": (1,)}[modality]
    if site.site_id == CHILDRENS_HOSPITAL or (
            site.site_id in PAEDIATRIC_UNITS and number in paediatric_numbers):
        found.append("PAEDIATRIC")
    return found


def _xr_capabilities(site: SiteFacts, number: int, count: int) -> list[str]:
    found = ["FLUOROSCOPY"] if number <= _fluoroscopy_rooms(site, count) else []
    if site.kind != "community" and count >= 2 and number == count:
        found.append("BARIATRIC")
    return found


def _fluoroscopy_rooms(site: SiteFacts, xr_rooms: int) -> int:
    if site.kind == "acute":
        return 2 if xr_rooms >= 14 else 1 if xr_rooms >= 5 else 0
    return 1 if site.kind == "community" and xr_rooms >= 6 else 0


def _us_capabilities(site: SiteFacts, number: int, count: int) -> list[str]:
    return ["BARIATRIC"] if site.kind == "acute" and count >= 8 and number == count else []


def _ct_capabilities(site: SiteFacts, number: int, count: int) -> list[str]:
    found = [] if site.site_id in CT_WITHOUT_INJECTOR else ["CONTRAST_INJECTOR"]
    if site.kind == "acute" and count >= 3 and number == 1:
        found.append("CARDIAC")
    if site.kind == "acute" and count >= 2 and number == count:
        found.append("BARIATRIC")
    return found


def _mr_capabilities(site: SiteFacts, number: int, count: int) -> list[str]:
    found = []
    if (site.kind == "acute" and number <= count // 2) or site.site_id in THREE_TESLA_CDC:
        found.append("MR_3T")
    if site.kind == "cdc" or (count >= 3 and number == count):
        found += ["WIDE_BORE", "BARIATRIC"]
    if site.site_id in CARDIAC_MR_SITES and number == 1:
        found.append("CARDIAC")
    if site.site_id not in ORTHOPAEDIC_SITES:
        found.append("CONTRAST_INJECTOR")
    return found


def _staff_groups(sites: list[SiteFacts], rooms: list[dict]) -> list[dict]:
    """Staff for a fixed-seed 78-88 % of each site's weekday room-sessions (see README)."""
    draw = random.Random(SEED)
    groups = []
    for site in sites:
        level = 0.78 + 0.10 * draw.random()
        groups += _site_staff(site, [r for r in rooms if r["site_id"] == site.site_id], level)
    return groups


def _site_staff(site: SiteFacts, rooms: list[dict], level: float) -> list[dict]:
    def count(modality: str, capability: str | None = None) -> int:
        return sum(1 for r in rooms if r["modality"] == modality
                   and (capability is None or capability in r["capabilities"].split(";")))

    def clinical(*modalities: str) -> list[str]:
        """Clinical capabilities present in these modalities' rooms: staff must hold them."""
        return [c for c in ("CARDIAC", "PAEDIATRIC", "FLUOROSCOPY")
                if any(count(m, c) for m in modalities)]

    weekday = level * WEEKDAY_SESSIONS_PER_ROOM
    paediatric_us = count("US", "PAEDIATRIC") if site.site_id != CHILDRENS_HOSPITAL else 0
    specs = [
        ("RG-XR", "radiographer", ["XR", *clinical("XR")], weekday * count("XR")),
        ("RG-CT", "radiographer", ["XR", "CT", *clinical("CT")], 2 * weekday * count("CT")),
        ("RG-MR", "radiographer", ["MR", *clinical("MR")], 2 * weekday * count("MR")),
        ("SG-US", "sonographer", ["US", *clinical("US")] if not paediatric_us else ["US"],
         weekday * (count("US") - paediatric_us)),
        ("SG-PAED", "sonographer", ["US", "PAEDIATRIC"], weekday * paediatric_us),
    ]
    groups = []
    for suffix, role, skills, sessions in specs:
        groups += _split_for_extended_hours(site, suffix, role, skills, round(sessions))
    groups += _radiologists(site, count, clinical, weekday)
    return groups


def _split_for_extended_hours(site: SiteFacts, suffix: str, role: str, skills: list[str],
                              sessions: int) -> list[dict]:
    """About 30 % of a pool works evenings and weekends where the site opens then."""
    if sessions == 0:
        return []
    extended = round(sessions * 0.3) if (site.opens_evenings or site.opens_weekends) else 0
    if sessions < 10:
        extended = 0
    groups = [_group(f"{site.site_id}-{suffix}", site, role, skills, sessions - extended,
                     per_head=8.0, evenings=False, weekends=False)]
    if extended:
        groups.append(_group(f"{site.site_id}-{suffix}-EXT", site, role, skills, extended,
                             per_head=6.0, evenings=site.opens_evenings,
                             weekends=site.opens_weekends))
    return groups


def _radiologists(site: SiteFacts, count, clinical, weekday: float) -> list[dict]:
    """On-site radiologist sessions: CT/MR lists at 3 rooms each, half the fluoroscopy room
    sessions one-to-one, paediatric ultrasound at 3 rooms each, cardiac lists apart."""
    general = weekday * ((count("CT") + count("MR")) / 3 + 0.5 * count("XR", "FLUOROSCOPY")
                         + count("US", "PAEDIATRIC") / 3)
    cardiac = weekday * 0.4 * (count("CT", "CARDIAC") + count("MR", "CARDIAC"))
    skills = [m for m in ("CT", "MR", "US", "XR") if count(m)]
    groups = []
    if general:
        extra = [c for c in clinical("CT", "MR", "US", "XR") if c != "CARDIAC"]
        groups.append(_group(f"{site.site_id}-RL", site, "radiologist", skills + extra,
                             math.ceil(general), per_head=3.0, evenings=site.opens_evenings,
                             weekends=site.opens_weekends))
    if cardiac:
        groups.append(_group(f"{site.site_id}-RL-CARD", site, "radiologist",
                             [m for m in ("CT", "MR") if count(m)] + ["CARDIAC"],
                             math.ceil(cardiac), per_head=3.0, evenings=False, weekends=False))
    return groups


def _group(group_id: str, site: SiteFacts, role: str, skills: list[str], sessions: int,
           per_head: float, evenings: bool, weekends: bool) -> dict:
    """A pool whose headcount gives `per_head` sessions each (radiologists report the rest)."""
    return {
        "staff_group_id": group_id, "site_id": site.site_id, "role": role,
        "skills": ";".join(skills), "headcount": math.ceil(sessions / per_head),
        "sessions_per_week": sessions, "works_evenings": "yes" if evenings else "no",
        "works_weekends": "yes" if weekends else "no",
    }


def _write(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _print_calibration(rooms: list[dict], groups: list[dict]) -> None:
    rooms_by = Counter(room["modality"] for room in rooms)
    print(f"rooms {len(rooms)}: " + ", ".join(f"{m} {rooms_by[m]}" for m in MODALITIES))
    crew = {"XR": ("RG-XR", 1), "CT": ("RG-CT", 2), "MR": ("RG-MR", 2), "US": ("SG-", 1)}
    for modality, (tag, per_room) in crew.items():
        sessions = sum(g["sessions_per_week"] for g in groups if f"-{tag}" in g["staff_group_id"])
        possible = rooms_by[modality] * WEEKDAY_SESSIONS_PER_ROOM
        print(f"{modality}: staff cover {sessions // per_room} of {possible} weekday "
              f"room-sessions ({sessions / per_room / possible:.0%})")
    heads = Counter()
    for group in groups:
        heads[group["role"]] += group["headcount"]
    print("headcount: " + ", ".join(f"{role} {n}" for role, n in sorted(heads.items()))
          + f", total {sum(heads.values())}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else NETWORK_DIR)

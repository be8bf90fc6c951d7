"""What a patient needs to find a site and its imaging department: the street address, town
and full postcode, the department's phone number and where to report on arrival. One row per
site in `reference_network/site_visits.csv`, kept apart from `sites.csv` (which plans the
diaries) so the network can review the patient-facing wording on its own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from domain.data_files import Column, DataFileError, read_table, text
from domain.network import REFERENCE_NETWORK_DIR

POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")
"""A full UK postcode as written on letters: outward code, one space, inward code."""
MAP_URL = "https://www.openstreetmap.org/"


@dataclass(frozen=True)
class SiteVisit:
    site_id: str
    address: str
    """The street line(s), without the town and postcode."""
    town: str
    postcode: str
    phone: str
    """The imaging department's number, as people write it."""
    report_to: str
    """Where to go on arrival, in plain words."""

    @property
    def postcode_district(self) -> str:
        return self.postcode.split(" ")[0]

    def full_address(self, site_name: str) -> str:
        """One line for a calendar, a satnav or an envelope."""
        return f"{site_name}, {self.address}, {self.town} {self.postcode}"

    def map_link(self, lat: float, lon: float) -> str:
        """A map centred on the site, marked (OpenStreetMap: no account, no tracking)."""
        return MAP_URL + "?" + urlencode({"mlat": f"{lat:.5f}", "mlon": f"{lon:.5f}"}) + \
            f"#map=17/{lat:.5f}/{lon:.5f}"


def load_site_visits(path: Path = REFERENCE_NETWORK_DIR / "site_visits.csv"
                     ) -> dict[str, SiteVisit]:
    """The file's rows by site id; DataFileError names the row and field of a bad one."""
    rows = read_table(path, [Column(name, text) for name in (
        "site_id", "address", "town", "postcode", "phone", "report_to")])
    visits: dict[str, SiteVisit] = {}
    for number, row in enumerate(rows, start=2):
        if not POSTCODE.match(row["postcode"]):
            raise DataFileError(path, f"'{row['postcode']}' is not a full postcode such as "
                                      "B15 2GW", number, "postcode")
        if row["site_id"] in visits:
            raise DataFileError(path, f"site '{row['site_id']}' has a second row", number,
                                "site_id")
        visits[row["site_id"]] = SiteVisit(**row)
    return visits


@cache
def site_visits() -> dict[str, SiteVisit]:
    """The shipped file, read once per process."""
    return load_site_visits()

"""Staff availability and leave per site, staff group, date and session: what a trust's rota
export says about who can work, read from a CSV file. Never decides who works; the diary builder
does that within these limits.

The file (`reference_network/staff_availability.csv` for the shipped network) has one row per
staff group and date, optionally per session:

| column | meaning |
|---|---|
| `site_id` | the site the group belongs to (must match the group's site) |
| `staff_group_id` | a group from `staff_groups.csv` |
| `date` | YYYY-MM-DD |
| `period` | `morning`, `afternoon` or `evening`; blank means every session that day |
| `rostered` | staff of the group on the rota for that session (0 … headcount) |
| `on_leave` | of those rostered, how many are away: annual leave, sickness, training (≤ rostered) |
| `note` | free text for people (e.g. "bank holiday", "training day"); never read by code |

Available staff for a session = `rostered − on_leave`. A row for one period overrides a blank
(whole-day) row for the same group and date. Dates without a row follow the group's usual
pattern: the whole headcount on weekdays' morning and afternoon, evenings only if the group
works evenings, weekends only if it works weekends. The weekly limit of sessions per person
(the group's `sessions_per_week` in `staff_groups.csv`) applies on top of these per-session numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from domain.data_files import (
    Column,
    DataFileError,
    iso_date,
    non_negative_integer,
    one_of,
    read_table,
    text,
)
from domain.network import REFERENCE_NETWORK_DIR, Network, StaffGroup
from domain.vocabulary import SessionPeriod

STAFF_AVAILABILITY_FILE = "staff_availability.csv"


@dataclass(frozen=True)
class StaffAvailability:
    """One row of a rota export: a group's staff on the rota and away, for a date (and session)."""

    site_id: str
    staff_group_id: str
    date: date
    period: SessionPeriod | None
    rostered: int
    on_leave: int
    note: str = ""

    @property
    def available(self) -> int:
        return self.rostered - self.on_leave


_COLUMNS = [
    Column("site_id", text), Column("staff_group_id", text), Column("date", iso_date),
    Column("period", one_of(SessionPeriod), required=False),
    Column("rostered", non_negative_integer), Column("on_leave", non_negative_integer),
    Column("note", text, required=False),
]


def load_staff_availability(path: Path, network: Network) -> tuple[StaffAvailability, ...]:
    """Rows of an availability file checked against the network; the first bad cell raises
    DataFileError naming the row and field, and nothing is returned."""
    groups = {group.staff_group_id: group for group in network.staff_groups}
    sites = {site.site_id for site in network.sites}
    rows: list[StaffAvailability] = []
    seen: set[tuple[str, date, SessionPeriod | None]] = set()
    for number, row in enumerate(read_table(path, _COLUMNS), start=2):
        entry = StaffAvailability(**{**row, "note": row["note"] or ""})
        if entry.site_id not in sites:
            raise DataFileError(path, f"no site '{entry.site_id}' in the network", number,
                                "site_id")
        _check_row(path, number, entry, groups)
        key = (entry.staff_group_id, entry.date, entry.period)
        if key in seen:
            raise DataFileError(path, "a second row for this group, date and period", number,
                                "period")
        seen.add(key)
        rows.append(entry)
    return tuple(rows)


def load_reference_staff_availability(network: Network) -> tuple[StaffAvailability, ...]:
    """The availability shipped with the reference network (leave and sickness for some weeks)."""
    return load_staff_availability(REFERENCE_NETWORK_DIR / STAFF_AVAILABILITY_FILE, network)


def usual_availability(group: StaffGroup, day: date, period: SessionPeriod) -> int:
    """Staff of a group who can work a session when the rota says nothing about the date."""
    if day.weekday() >= 5 and not group.works_weekends:
        return 0
    if period is SessionPeriod.EVENING and not group.works_evenings:
        return 0
    return group.headcount


class StaffCalendar:
    """Available staff per group and session: rota rows where given, the usual pattern elsewhere."""

    def __init__(self, groups: Iterable[StaffGroup], rows: Iterable[StaffAvailability]) -> None:
        self._groups = {group.staff_group_id: group for group in groups}
        self._rows: dict[tuple[str, date, SessionPeriod | None], int] = {
            (row.staff_group_id, row.date, row.period): row.available for row in rows
        }

    def available(self, staff_group_id: str, day: date, period: SessionPeriod) -> int:
        for key in ((staff_group_id, day, period), (staff_group_id, day, None)):
            if key in self._rows:
                return self._rows[key]
        return usual_availability(self._groups[staff_group_id], day, period)


def _check_row(path: Path, number: int, row: StaffAvailability,
               groups: dict[str, StaffGroup]) -> None:
    group = groups.get(row.staff_group_id)
    if group is None:
        raise DataFileError(path, f"no staff group '{row.staff_group_id}' in the network", number,
                            "staff_group_id")
    if group.site_id != row.site_id:
        raise DataFileError(path, f"group '{group.staff_group_id}' belongs to site "
                            f"'{group.site_id}', not '{row.site_id}'", number, "site_id")
    if row.rostered > group.headcount:
        raise DataFileError(path, f"{row.rostered} rostered but the group's headcount is "
                            f"{group.headcount}", number, "rostered")
    if row.on_leave > row.rostered:
        raise DataFileError(path, f"{row.on_leave} on leave but only {row.rostered} rostered",
                            number, "on_leave")

"""A what-if scenario as a YAML file, validated before anything runs: a malformed one is
refused with every problem named by its key (`changes[2].add_scanner.site: ...`).

    name: Saturday lists at the CDCs, network-wide choice
    policies:                 # what the scenario runs under (the baseline runs today's)
      booking: network        # own_trust (today) | network
      backfill: true          # offers of freed slots (off today)
      diaries: solver         # templates (today's diaries repeated) | solver (rebuilt)
    changes:
      - close: {site: UHB-QE, modality: MR, from: 2027-01-04, to: 2027-01-17}
      - add_scanner: {site: BCH-CDC, modality: CT, from: 2027-02-01}
      - extend_hours: {sites: [BCH-CDC], evenings: true, saturdays: true}
      - demand: {percent: 10, modality: MR, ics: BSOL}
      - staff_short: {trust: SWB, share: 0.15, from: 2027-01-04, to: 2027-02-28}
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.network import Network
from domain.vocabulary import Modality


class ScenarioError(ValueError):
    """A scenario that cannot run; each line names the key and the problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Dated(_Strict):
    starts: date | None = Field(None, alias="from")
    ends: date | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> _Dated:
        if self.starts and self.ends and self.ends < self.starts:
            raise ValueError("'to' is before 'from'")
        return self


class _Where(_Dated):
    site: str | None = None
    sites: list[str] | None = None
    trust: str | None = None
    modality: Modality | None = None


class Close(_Where):
    """Close rooms: every room of the modality at the site(s) or trust, or the rooms named."""

    rooms: list[str] | None = None

    @model_validator(mode="after")
    def _somewhere(self) -> Close:
        if not (self.rooms or self.site or self.sites or self.trust):
            raise ValueError("name rooms, a site, sites or a trust to close")
        return self


class AddScanner(_Dated):
    site: str
    modality: Modality
    count: Annotated[int, Field(ge=1, le=20)] = 1


class ExtendHours(_Where):
    evenings: bool = False
    saturdays: bool = False
    sundays: bool = False

    @model_validator(mode="after")
    def _something(self) -> ExtendHours:
        if not (self.evenings or self.saturdays or self.sundays):
            raise ValueError("say which of evenings, saturdays, sundays to add")
        return self


class DemandChange(_Dated):
    percent: Annotated[float, Field(gt=-100, le=500)]
    modality: Modality | None = None
    area: str | None = None
    ics: str | None = None


class StaffShort(_Where):
    share: Annotated[float, Field(gt=0, le=1)]


class Change(_Strict):
    """Exactly one of the keys."""

    close: Close | None = None
    add_scanner: AddScanner | None = None
    extend_hours: ExtendHours | None = None
    demand: DemandChange | None = None
    staff_short: StaffShort | None = None

    @model_validator(mode="after")
    def _one(self) -> Change:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("each change has exactly one of close, add_scanner, "
                             f"extend_hours, demand, staff_short (got {len(given)})")
        return self


class Booking(StrEnum):
    OWN_TRUST = "own_trust"
    NETWORK = "network"


class Diaries(StrEnum):
    TEMPLATES = "templates"
    SOLVER = "solver"


class PolicyChoice(_Strict):
    booking: Booking = Booking.OWN_TRUST
    backfill: bool = False
    diaries: Diaries = Diaries.TEMPLATES
    solver_seconds: Annotated[float, Field(gt=0, le=600)] = 5.0
    breakdowns: bool = True


class Scenario(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    policies: PolicyChoice = PolicyChoice()
    baseline: PolicyChoice = PolicyChoice()
    """What the scenario is compared with: today's policies and no changes, by default."""
    changes: list[Change] = []


def parse_scenario(text: str) -> Scenario:
    """The scenario in `text` (YAML), or ScenarioError naming every bad key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError([f"not YAML: {error}"]) from error
    if not isinstance(data, dict):
        raise ScenarioError(["the file must be a mapping with at least 'name'"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError([_problem(e) for e in error.errors()]) from error


def check_against(scenario: Scenario, network: Network, first_day: date) -> None:
    """Refuse names the network does not have and dates before the start."""
    sites = {s.site_id for s in network.sites}
    rooms = {r.room_id for r in network.rooms}
    trusts = {t.trust_id for t in network.trusts}
    areas = {a.area_id for a in network.demand_areas}
    icss = {i.ics_id for i in network.icss}
    problems = []
    for i, change in enumerate(scenario.changes):
        kind = next(k for k in Change.model_fields if getattr(change, k) is not None)
        body = getattr(change, kind)
        key = f"changes[{i}].{kind}"
        for name, known in (("site", sites), ("trust", trusts), ("area", areas),
                            ("ics", icss)):
            value = getattr(body, name, None)
            if value is not None and value not in known:
                problems.append(f"{key}.{name}: no {name} '{value}' in the network")
        for name, known in (("sites", sites), ("rooms", rooms)):
            for value in getattr(body, name, None) or ():
                if value not in known:
                    problems.append(f"{key}.{name}: no {name[:-1]} '{value}' in the network")
        if body.ends is not None and body.ends < first_day:
            problems.append(f"{key}.to: {body.ends} is before the first day simulated "
                            f"({first_day})")
    if problems:
        raise ScenarioError(problems)


def _problem(error: dict) -> str:
    parts = []
    for part in error["loc"]:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        else:
            parts.append(str(part))
    key = ".".join(parts) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    return f"{key}: {message}"

"""Read-only look-ups of reference data that patient-facing pages show: a site's access
notes, address, phone and where to report, an exam's preparation and length, where an
appointment takes place. Never writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from booking_api.network.models import ExamType, Room, Site
from domain.site_visits import SiteVisit, site_visits
from domain.vocabulary import SiteKind


@dataclass(frozen=True)
class SiteDetails:
    site_id: str
    name: str
    postcode_district: str
    community_diagnostic_centre: bool
    step_free: bool
    parking: str
    public_transport: str
    lat: float | None = None
    lon: float | None = None
    visit: SiteVisit | None = None
    """Address, phone and where to report (`domain.site_visits`); None: not on file."""

    @property
    def town(self) -> str:
        return self.visit.town if self.visit else ""

    @property
    def full_address(self) -> str:
        """The address for a calendar or a satnav (name and district when not on file)."""
        if self.visit is None:
            return f"{self.name}, {self.postcode_district}"
        return self.visit.full_address(self.name)

    @property
    def map_link(self) -> str | None:
        if self.visit is None or self.lat is None or self.lon is None:
            return None
        return self.visit.map_link(self.lat, self.lon)

    def matches(self, words: str) -> bool:
        """Whether a patient's search (a name, a town or a postcode, any case; a postcode
        with or without its space, or only its first part) finds this site."""
        wanted = " ".join(words.lower().split())
        if not wanted:
            return True
        compact = wanted.replace(" ", "")
        postcode = (self.visit.postcode if self.visit else self.postcode_district).lower()
        return (wanted in self.name.lower() or wanted in self.town.lower()
                or postcode.replace(" ", "").startswith(compact)
                or compact == self.postcode_district.lower())


@dataclass(frozen=True)
class ExamDetails:
    code: str
    name: str
    duration_min: int
    preparation: str
    fasting_hours: int
    contrast: bool


def sites_by_id(session: Session, site_ids: Iterable[str]) -> dict[str, SiteDetails]:
    """Details of the named sites (unknown ids are left out)."""
    rows = session.scalars(select(Site).where(col(Site.site_id).in_(list(site_ids))))
    return {row.site_id: _site(row) for row in rows}


def site_of_room(session: Session, room_id: str) -> SiteDetails | None:
    room = session.get(Room, room_id)
    site = session.get(Site, room.site_id) if room is not None else None
    return _site(site) if site is not None else None


def exam_details(session: Session, code: str) -> ExamDetails | None:
    exam = session.get(ExamType, code)
    if exam is None:
        return None
    return ExamDetails(code=exam.code, name=exam.name, duration_min=exam.duration_min,
                       preparation=exam.preparation, fasting_hours=exam.fasting_hours,
                       contrast=exam.contrast)


def _site(row: Site) -> SiteDetails:
    return SiteDetails(site_id=row.site_id, name=row.name,
                       postcode_district=row.postcode_district,
                       community_diagnostic_centre=row.kind is SiteKind.CDC,
                       step_free=row.step_free, parking=row.parking,
                       public_transport=row.public_transport, lat=row.lat, lon=row.lon,
                       visit=site_visits().get(row.site_id))

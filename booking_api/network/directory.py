"""Read-only look-ups of reference data that patient-facing pages show: a site's access
notes, an exam's preparation and length, where an appointment takes place. Never writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from booking_api.network.models import ExamType, Room, Site
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
                       public_transport=row.public_transport)

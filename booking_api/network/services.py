"""Mirror the network's reference data (`domain.network.Network` and the exam catalogue) into
the database: insert what is new, update what changed, keep rows the files no longer name
(slots and appointments may still refer to them). Runs inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, SQLModel

from booking_api.core.columns import joined_codes
from booking_api.network import models
from domain import network as domain_network
from domain.exams import ExamType as DomainExamType


@dataclass(frozen=True)
class TableSync:
    """What mirroring did to one table."""

    table: str
    inserted: int
    updated: int
    unchanged: int
    kept_unlisted: int


def mirror_reference_data(session: Session, network: domain_network.Network,
                          catalogue: Mapping[str, DomainExamType]) -> list[TableSync]:
    """Upsert every reference table by its natural key, parents before children."""
    plan: list[tuple[type[SQLModel], list[dict[str, Any]]]] = [
        (models.IntegratedCareSystem, [_ics_row(ics) for ics in network.icss]),
        (models.Trust, [_trust_row(trust) for trust in network.trusts]),
        (models.Site, [_site_row(site) for site in network.sites]),
        (models.Room, [_room_row(room) for room in network.rooms]),
        (models.StaffGroup, [_staff_group_row(group) for group in network.staff_groups]),
        (models.DemandArea, [_demand_area_row(area) for area in network.demand_areas]),
        (models.ExamType, [_exam_type_row(exam) for exam in catalogue.values()]),
    ]
    return [upsert_rows(session, table, rows) for table, rows in plan]


def upsert_rows(session: Session, table: type[SQLModel],
                rows: Iterable[dict[str, Any]]) -> TableSync:
    """Bulk insert the rows whose primary key is new; bulk update those whose values differ."""
    key = _primary_key_name(table)
    columns = table.__table__.columns  # type: ignore[attr-defined]
    existing = {
        row[key]: dict(row)
        for row in session.execute(select(*columns)).mappings()
    }
    wanted = {row[key]: row for row in rows}
    new = [row for k, row in wanted.items() if k not in existing]
    changed = [row for k, row in wanted.items() if k in existing and existing[k] != row]
    if new:
        session.execute(insert(table), new)
    if changed:
        session.execute(update(table), changed)
    return TableSync(
        table=table.__tablename__,  # type: ignore[arg-type]
        inserted=len(new),
        updated=len(changed),
        unchanged=len(wanted) - len(new) - len(changed),
        kept_unlisted=len(set(existing) - set(wanted)),
    )


def _primary_key_name(table: type[SQLModel]) -> str:
    (column,) = table.__table__.primary_key.columns  # type: ignore[attr-defined]
    return column.name


def _ics_row(ics: domain_network.IntegratedCareSystem) -> dict[str, Any]:
    return {"ics_id": ics.ics_id, "name": ics.name}


def _trust_row(trust: domain_network.Trust) -> dict[str, Any]:
    return {"trust_id": trust.trust_id, "name": trust.name, "ics_id": trust.ics_id}


def _site_row(site: domain_network.Site) -> dict[str, Any]:
    return {
        "site_id": site.site_id, "name": site.name, "trust_id": site.trust_id,
        "kind": site.kind, "postcode_district": site.postcode_district,
        "lat": site.lat, "lon": site.lon,
        "weekday_opens": site.weekday.opens, "weekday_closes": site.weekday.closes,
        "saturday_opens": site.saturday.opens, "saturday_closes": site.saturday.closes,
        "sunday_opens": site.sunday.opens, "sunday_closes": site.sunday.closes,
        "step_free": site.step_free, "hoist": site.hoist,
        "parking": site.parking, "public_transport": site.public_transport,
        "age_limit_years": site.age_limit_years,
    }


def _room_row(room: domain_network.Room) -> dict[str, Any]:
    return {
        "room_id": room.room_id, "site_id": room.site_id, "name": room.name,
        "modality": room.modality, "capabilities": joined_codes(room.capabilities),
        "max_weight_kg": room.max_weight_kg,
    }


def _staff_group_row(group: domain_network.StaffGroup) -> dict[str, Any]:
    return {
        "staff_group_id": group.staff_group_id, "site_id": group.site_id, "role": group.role,
        "skills": joined_codes(group.skills), "headcount": group.headcount,
        "sessions_per_week": group.sessions_per_week,
        "works_evenings": group.works_evenings, "works_weekends": group.works_weekends,
    }


def _demand_area_row(area: domain_network.DemandArea) -> dict[str, Any]:
    return {
        "area_id": area.area_id, "name": area.name, "ics_id": area.ics_id,
        "lat": area.lat, "lon": area.lon, "population_weight": area.population_weight,
        "imd_decile": area.imd_decile,
    }


def _exam_type_row(exam: DomainExamType) -> dict[str, Any]:
    return {
        "code": exam.code, "name": exam.name, "modality": exam.modality,
        "family": exam.family, "body_part": exam.body_part,
        "duration_min": exam.duration_min,
        "required_capabilities": joined_codes(exam.required_capabilities),
        "contrast": exam.contrast, "radiologist_present": exam.radiologist_present,
        "ionising": exam.ionising, "fasting_hours": exam.fasting_hours,
        "full_bladder": exam.full_bladder, "bowel_prep": exam.bowel_prep,
        "min_notice_days": exam.min_notice_days, "preparation": exam.preparation,
        "relative_frequency": exam.relative_frequency,
    }

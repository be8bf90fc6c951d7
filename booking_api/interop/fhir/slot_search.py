"""FHIR searches over our tables: Slot by status, start (ge/gt/le/lt/eq a date or instant),
schedule and service-type (the modality), with `_include=Slot:schedule`; Schedule; and
Appointment by patient, status and based-on. Results are searchset Bundles in start order,
`_count` a page (default 50, at most 500), with a `next` link; `total` is left out (counting
six weeks of a network's slots for every page would cost more than the page)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlmodel import Session, col

from booking_api.interop.fhir.outcome import FhirError
from booking_api.interop.fhir.resources import schedule_resource, slot_resource
from booking_api.network.models import Room, Site
from booking_api.slots.models import Slot
from domain.lifecycle import SlotStatus
from domain.vocabulary import Modality

LONDON = ZoneInfo("Europe/London")
DEFAULT_COUNT, MAX_COUNT = 50, 500
COMPARATORS = {"ge": "__ge__", "gt": "__gt__", "le": "__le__", "lt": "__lt__"}


def search_slots(session: Session, params: Mapping[str, Sequence[str]],
                 base_url: str) -> dict[str, Any]:
    """A searchset Bundle of the slots matching `params` (FHIR search parameters)."""
    query = select(Slot)
    for status in params.get("status", []):
        query = query.where(col(Slot.status).in_(_statuses(status)))
    for value in params.get("start", []):
        query = _start(query, value)
    for value in params.get("schedule", []):
        query = query.where(col(Slot.room_id).in_(
            [v.removeprefix("Schedule/") for v in value.split(",")]))
    for value in params.get("service-type", []):
        query = query.where(col(Slot.modality).in_(_modalities(value)))
    count = _count(params)
    offset = _offset(params)
    rows = list(session.scalars(query.order_by(Slot.start_at, Slot.id)
                                .offset(offset).limit(count + 1)))
    entries = [_entry(base_url, slot_resource(slot)) for slot in rows[:count]]
    if "Slot:schedule" in params.get("_include", []):
        entries += [_entry(base_url, resource, "include")
                    for resource in schedules(session, {s.room_id for s in rows[:count]})]
    links = [{"relation": "self", "url": _url(base_url, "Slot", params)}]
    if len(rows) > count:
        links.append({"relation": "next", "url": _url(
            base_url, "Slot", {**params, "_offset": [str(offset + count)]})})
    return {"resourceType": "Bundle", "type": "searchset", "link": links, "entry": entries}


def schedules(session: Session, room_ids: set[str] | None) -> list[dict[str, Any]]:
    """Schedules (one per room) as resources, for `room_ids` or every room."""
    query = select(Room, Site.name).join(Site, col(Site.site_id) == Room.site_id)
    if room_ids is not None:
        query = query.where(col(Room.room_id).in_(sorted(room_ids)))
    return [schedule_resource(room.room_id, room.name, room.site_id, str(room.modality),
                              site_name) for room, site_name in session.execute(
                                  query.order_by(Room.room_id))]


def searchset(base_url: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [_entry(base_url, r) for r in resources]}


def _statuses(value: str) -> list[SlotStatus]:
    try:
        return [SlotStatus(v) for v in value.split(",")]
    except ValueError:
        raise FhirError(400, "Slot.status", f"status '{value}' is not one of "
                        f"{', '.join(s.value for s in SlotStatus)}") from None


def _modalities(value: str) -> list[Modality]:
    codes = [v.rpartition("|")[2] for v in value.split(",")]
    try:
        return [Modality(code) for code in codes]
    except ValueError:
        raise FhirError(400, "Slot.serviceType", f"service-type '{value}' is not one of "
                        f"{', '.join(m.value for m in Modality)}") from None


def _start(query: Select, value: str) -> Select:
    prefix, text = (value[:2], value[2:]) if value[:2] in COMPARATORS or \
        value[:2] == "eq" else ("eq", value)
    try:
        moment = datetime.fromisoformat(text)
        whole_day = False
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text), time(0), LONDON)
            whole_day = True
        except ValueError:
            raise FhirError(400, "Slot.start", f"start '{value}' is not a date or instant "
                            "(e.g. ge2026-12-07 or lt2026-12-07T12:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    moment = moment.astimezone(UTC)
    column = col(Slot.start_at)
    if prefix == "eq":
        if whole_day:
            end = datetime.combine(date.fromisoformat(text) + timedelta(days=1), time(0),
                                   LONDON).astimezone(UTC)
            return query.where(column >= moment, column < end)
        return query.where(column == moment)
    return query.where(getattr(column, COMPARATORS[prefix])(moment))


def _count(params: Mapping[str, Sequence[str]]) -> int:
    value = (params.get("_count") or [str(DEFAULT_COUNT)])[0]
    if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
        raise FhirError(400, "_count", f"_count must be 1 to {MAX_COUNT}")
    return int(value)


def _offset(params: Mapping[str, Sequence[str]]) -> int:
    value = (params.get("_offset") or ["0"])[0]
    if not value.isdigit():
        raise FhirError(400, "_offset", "_offset must be a whole number")
    return int(value)


def _entry(base_url: str, resource: dict[str, Any], mode: str = "match") -> dict[str, Any]:
    return {"fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}",
            "resource": resource, "search": {"mode": mode}}


def _url(base_url: str, kind: str, params: Mapping[str, Sequence[str]]) -> str:
    pairs = [(key, value) for key, values in params.items() for value in values]
    return f"{base_url}/{kind}" + (f"?{urlencode(pairs)}" if pairs else "")

"""The clerks' worklist across the network: open requests (appointable, waiting) sorted by
clinical priority, then breach date, filtered by modality, trust, site, integrated care
system, weeks waited and "needs a call", a page at a time.

Keyset pagination over the partial indexes of open requests (`requests.models`): within a
priority the breach date is the date received plus a fixed number of days (two weeks for
two-week-wait, six otherwise), so "by breach date" is "by date received", and a page reads
the index from where the last page stopped instead of counting rows to skip. Planned
(surveillance) tests breach on their due date and are read by the due-date index."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, false, func, or_, select, text, true
from sqlmodel import Session, col

from booking_api.core.db import Database
from booking_api.core.errors import InvalidInput
from booking_api.network.models import DemandArea, ExamType, Site, Trust
from booking_api.patients.models import ContactPreference, Patient
from booking_api.requests.models import OPEN_STATES_SQL, Request
from domain.lifecycle import RequestState
from domain.vocabulary import Modality, Priority
from forecasting.diary_demand import BREACH_DAYS, STANDARD_BREACH_DAYS

PAGE_SIZE = 50
PRIORITY_ORDER = (Priority.TWO_WEEK_WAIT, Priority.URGENT, Priority.ROUTINE, Priority.PLANNED)
WORKLIST_STATES = (RequestState.APPOINTABLE, RequestState.WAITING)
LISTED_STATES = frozenset({RequestState.RECEIVED, RequestState.JUSTIFIED, *WORKLIST_STATES})
"""States a list may show: the worklist's, and `received` for the vetting queue (all covered
by the partial indexes)."""
MAX_WEEKS = 104
FAR_FUTURE = date(9999, 12, 31)


@dataclass(frozen=True)
class WorklistFilters:
    """What a clerk narrows the list to; None or empty means any."""

    modality: Modality | None = None
    trust_id: str | None = None
    site_id: str | None = None
    ics_id: str | None = None
    min_weeks_waited: int | None = None
    needs_call: bool = False
    states: tuple[RequestState, ...] = WORKLIST_STATES

    def __post_init__(self) -> None:
        if self.min_weeks_waited is not None and not 0 <= self.min_weeks_waited <= MAX_WEEKS:
            raise InvalidInput(f"weeks waited must be between 0 and {MAX_WEEKS}", "weeks")
        if not self.states or any(s not in LISTED_STATES for s in self.states):
            raise InvalidInput("state must be appointable or waiting", "state")


@dataclass(frozen=True)
class WorklistRow:
    request_id: int
    priority: Priority
    state: RequestState
    exam_name: str
    modality: Modality
    received_on: date
    breach_on: date
    weeks_waited: int
    site_name: str | None
    needs_call: tuple[str, ...]
    """Why the patient needs a call rather than a text: no contact details, an interpreter,
    transport, letters only."""
    cursor: str = field(default="", repr=False, compare=False)
    """Where the next page starts when this row ends a page (opaque; no personal data)."""


@dataclass(frozen=True)
class WorklistPage:
    rows: tuple[WorklistRow, ...]
    next_cursor: str | None
    filters: WorklistFilters
    today: date


@dataclass(frozen=True)
class FilterChoices:
    """What the filters offer: every ICS, trust and site of the network."""

    icss: tuple[tuple[str, str], ...]
    trusts: tuple[tuple[str, str], ...]
    sites: tuple[tuple[str, str], ...]
    modalities: tuple[tuple[str, str], ...] = field(default_factory=lambda: (
        ("XR", "X-ray"), ("US", "Ultrasound"), ("CT", "CT"), ("MR", "MRI")))


def worklist_page(db: Database, filters: WorklistFilters, cursor: str | None, *,
                  now: datetime, page_size: int = PAGE_SIZE) -> WorklistPage:
    """One page of the worklist from `cursor` (None: the first page)."""
    after = _decode(cursor)
    today = now.date()
    rows: list[WorklistRow] = []
    with db.reading() as session:
        for rank, priority in enumerate(PRIORITY_ORDER):
            if after is not None and rank < after[0]:
                continue
            wanted = page_size + 1 - len(rows)
            if wanted <= 0:
                break
            start = after if after is not None and after[0] == rank else None
            rows += _read_priority(session, priority, rank, filters, start, wanted, now, today)
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = rows[-1].cursor if more and rows else None
    return WorklistPage(tuple(rows), next_cursor, filters, today)


def count_open_requests(db: Database) -> int:
    """How many requests are on the worklist unfiltered (appointable or waiting)."""
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Request).where(
            col(Request.state).in_(WORKLIST_STATES))) or 0


def filter_choices(db: Database) -> FilterChoices:
    """The network's ICSs, trusts and sites, read at most once a minute per process
    (reference data: it changes when the network's files are loaded again)."""
    cached = _CHOICES.get(id(db))
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    choices = _read_choices(db)
    _CHOICES[id(db)] = (time.monotonic() + CHOICES_TTL_S, choices)
    return choices


CHOICES_TTL_S = 60.0
_CHOICES: dict[int, tuple[float, FilterChoices]] = {}


def _read_choices(db: Database) -> FilterChoices:
    with db.reading() as session:
        icss = session.execute(select(Trust.ics_id).distinct()).scalars().all()
        trusts = session.execute(select(Trust.trust_id, Trust.name).order_by(Trust.name)).all()
        sites = session.execute(select(Site.site_id, Site.name).order_by(Site.name)).all()
    return FilterChoices(icss=tuple((i, i) for i in sorted(icss)),
                         trusts=tuple((t, n) for t, n in trusts),
                         sites=tuple((s, n) for s, n in sites))


def breach_date(priority: Priority, received_on: date, due: date | None) -> date:
    """The day the request breaches: a planned test's due date, else the date received plus
    two weeks (two-week-wait) or six."""
    if priority is Priority.PLANNED and due is not None:
        return due
    return received_on + timedelta(days=BREACH_DAYS.get(priority, STANDARD_BREACH_DAYS))


def needs_call_reasons(phone: str | None, email: str | None, interpreter: str | None,
                       transport: bool, preference: ContactPreference) -> tuple[str, ...]:
    reasons = []
    if not phone and not email:
        reasons.append("no contact details")
    if interpreter:
        reasons.append(f"interpreter ({interpreter})")
    if transport:
        reasons.append("transport")
    if preference is ContactPreference.NONE:
        reasons.append("letters only")
    return tuple(reasons)


_Key = tuple[int, datetime | date, int]


def _read_priority(session: Session, priority: Priority, rank: int, filters: WorklistFilters,
                   after: _Key | None, limit: int, now: datetime,
                   today: date) -> list[WorklistRow]:
    """Up to `limit` rows of one priority after `after`, in breach order. Planned tests
    with a due date come by due date, those without one last (by id): each part is one
    range of its index, the same order on SQLite and PostgreSQL (which sort NULLs apart)."""
    if priority is not Priority.PLANNED:
        parts = [(col(Request.received_at), true())]
    else:
        parts = [(col(Request.due_date), col(Request.due_date).is_not(None)),
                 (None, col(Request.due_date).is_(None))]
    rows: list[WorklistRow] = []
    for order_date, part in parts:
        if len(rows) >= limit:
            break
        keyset = _after(order_date, after)
        if keyset is None:
            continue
        query = (_ROW.where(Request.priority == priority, part, keyset,
                            *_conditions(filters, now))
                 .order_by(*(c for c in (order_date, Request.id) if c is not None))
                 .limit(limit - len(rows)))
        rows += [_row(found, priority, rank, today) for found in session.execute(query)]
    return rows


_ROW = (select(Request.id, Request.state, Request.received_at, Request.due_date,
               ExamType.name, ExamType.modality, Site.name, Patient.phone, Patient.email,
               Patient.interpreter_language, Patient.needs_transport,
               Patient.contact_preference)
        .join(ExamType, ExamType.code == Request.exam_code)
        .join(Patient, Patient.id == Request.patient_id)
        .outerjoin(Site, Site.site_id == Request.site_id)
        .where(text(OPEN_STATES_SQL)))
"""A worklist row's columns; the literal open-states term lets SQLite (which matches a
partial index's WHERE by its terms) read the worklist's partial indexes."""


def _after(order_date: ColumnElement | None, after: _Key | None) -> ColumnElement[bool] | None:
    """The keyset condition of one part, or None when the cursor is past the whole part."""
    if after is None:
        return true()
    _rank, at, last_id = after
    if order_date is None:  # the part without dates comes after every dated row
        return Request.id > last_id if at == FAR_FUTURE else true()
    if at == FAR_FUTURE:
        return None
    return or_(order_date > at, and_(order_date == at, Request.id > last_id))


def _row(found, priority: Priority, rank: int, today: date) -> WorklistRow:
    (request_id, state, received_at, due, exam, modality, site, phone, email, interpreter,
     transport, preference) = found
    received_on = _utc(received_at).date()
    key = (due or FAR_FUTURE) if priority is Priority.PLANNED else received_at
    return WorklistRow(
        request_id=request_id, priority=priority, state=RequestState(state), exam_name=exam,
        modality=Modality(modality), received_on=received_on,
        breach_on=breach_date(priority, received_on, due),
        weeks_waited=max(0, (today - received_on).days // 7), site_name=site,
        needs_call=needs_call_reasons(phone, email, interpreter, transport,
                                      ContactPreference(preference)),
        cursor=_encode(rank, key, request_id))


def _conditions(filters: WorklistFilters, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [col(Request.state).in_(filters.states)]
    if filters.modality is not None:
        conditions.append(ExamType.modality == filters.modality)
    if filters.site_id:
        conditions.append(Request.site_id == filters.site_id)
    if filters.trust_id:
        conditions.append(col(Request.site_id).in_(
            select(Site.site_id).where(Site.trust_id == filters.trust_id)))
    if filters.ics_id:
        conditions.append(or_(
            col(Request.site_id).in_(select(Site.site_id).join(
                Trust, Trust.trust_id == Site.trust_id).where(Trust.ics_id == filters.ics_id)),
            and_(col(Request.site_id).is_(None), col(Patient.area_id).in_(
                select(DemandArea.area_id).where(DemandArea.ics_id == filters.ics_id)))))
    if filters.min_weeks_waited:
        conditions.append(Request.received_at <= now - timedelta(weeks=filters.min_weeks_waited))
    if filters.needs_call:
        conditions.append(or_(
            and_(col(Patient.phone).is_(None), col(Patient.email).is_(None)),
            col(Patient.interpreter_language).is_not(None), Patient.needs_transport == true(),
            Patient.contact_preference == ContactPreference.NONE))
    return conditions or [false()]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _encode(rank: int, at: datetime | date, request_id: int) -> str:
    text = f"{rank}|{at.isoformat()}|{request_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> _Key | None:
    """The key a page starts after; InvalidInput for a cursor this code did not make."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        rank_text, at_text, id_text = text.split("|")
        rank = int(rank_text)
        at: datetime | date = (date.fromisoformat(at_text) if len(at_text) == 10
                               else datetime.fromisoformat(at_text))
        if not 0 <= rank < len(PRIORITY_ORDER):
            raise ValueError(rank)
        return rank, at, int(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("the page link is not valid: start from the first page",
                           "after") from None

"""An in-memory, columnar copy of every slot, so one search judges hundreds of thousands of
slots with a few numpy operations instead of a database round trip per slot.

It is a cache, never the truth: the booking path re-checks everything under its lock. It
loads all slots once (ordered by modality, room, time, so each modality is one contiguous
block and each room session a run), then catches up by reading the slots and appointments
whose change stamps (`slot.changed_at`, `appointment.updated_at`, wall clock) are at or after
its last look, less a margin for transactions that committed late. Catching up is throttled
(`max_staleness_s`); a new slot id makes it reload everything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, Select, String, cast, func, select, type_coerce
from sqlmodel import Session, col

from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.core.columns import split_codes, utc_now
from booking_api.network.models import Room, Site
from booking_api.slots.eligibility import families_mask, radiologist_rostered, site_table
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, SlotStatus
from domain.vocabulary import Modality
from slot_rules.slot_table import MODALITY_CODE, SiteTable, SlotTable, capability_mask

BOOKED_FOREVER = np.iinfo(np.int64).max
CLOSED_STATUSES = frozenset({SlotStatus.BUSY_UNAVAILABLE.value,
                             SlotStatus.ENTERED_IN_ERROR.value})
SLOT_SORT = (Slot.modality, Slot.room_id, Slot.start_at)
CATCH_UP_LIMIT = 20_000
"""More changed slots than this since the last look (a diary rebuild) and a full reload is
cheaper. The bound, read in change order, also keeps PostgreSQL on the change-stamp index even
before the table has statistics (a sequential scan of every slot took ~70 ms per catch-up)."""


@dataclass
class SlotColumns:
    """Every slot as columns, sorted by (modality, room, start). `occupied_until_s` is 0 for a
    free slot, a hold's expiry (epoch seconds) while held, BOOKED_FOREVER once booked."""

    ids: np.ndarray
    session: np.ndarray
    start_min: np.ndarray
    length_min: np.ndarray
    site: np.ndarray
    room: np.ndarray
    modality: np.ndarray
    room_capabilities: np.ndarray
    room_max_weight_kg: np.ndarray
    families: np.ndarray
    radiologist_present: np.ndarray
    open: np.ndarray
    occupied_until_s: np.ndarray
    ends_run: np.ndarray
    """True where the next row is not the next slot of the same session (a free run stops)."""


@dataclass(frozen=True)
class _FreeRuns:
    version: int
    computed_at_s: int
    valid_until_s: int
    free: np.ndarray
    free_run_min: np.ndarray


@dataclass(frozen=True)
class ModalityView:
    """One modality's rows: a SlotTable the rules evaluate and the slice it came from."""

    table: SlotTable
    rows: slice
    free: np.ndarray


class SlotIndex:
    """The slots of the whole network in memory, caught up from the database on demand."""

    def __init__(self, max_staleness_s: float = 0.25, margin_s: float = 5.0) -> None:
        self.max_staleness_s = max_staleness_s
        self.margin = timedelta(seconds=margin_s)
        self._lock = threading.Lock()
        self._columns: SlotColumns | None = None
        self._order_by_id: np.ndarray = np.empty(0, dtype=np.int64)
        self._bounds: dict[Modality, slice] = {}
        self.sites: SiteTable | None = None
        self.site_names: tuple[str, ...] = ()
        self.room_ids: tuple[str, ...] = ()
        self._seen_at: datetime | None = None
        self._checked_at = 0.0
        self._version = 0
        self._free_cache: dict[Modality, _FreeRuns] = {}

    @property
    def columns(self) -> SlotColumns:
        if self._columns is None:
            raise RuntimeError("the slot index has not been loaded; call refresh() first")
        return self._columns

    def __len__(self) -> int:
        return 0 if self._columns is None else len(self._columns.ids)

    @property
    def loaded(self) -> bool:
        """Whether the slots have been read once (searches answer without a full load)."""
        return self._columns is not None

    def refresh(self, session: Session, force: bool = False) -> None:
        """Catch up with the database unless it did so less than max_staleness_s ago."""
        if not force and time.monotonic() - self._checked_at < self.max_staleness_s:
            return
        with self._lock:
            if not force and time.monotonic() - self._checked_at < self.max_staleness_s:
                return
            started = utc_now()
            if self._seen_at is None or not self._catch_up(session, self._seen_at - self.margin):
                self.load(session)
            self._seen_at = started
            self._checked_at = time.monotonic()

    def view(self, modality: Modality, now_s: int) -> ModalityView:
        """The modality's slots as a SlotTable whose free runs count only slots free at now."""
        c = self.columns
        rows = self._bounds.get(modality, slice(0, 0))
        runs = self._free_runs(modality, rows, now_s)
        table = SlotTable(
            start_min=c.start_min[rows], length_min=c.length_min[rows], site=c.site[rows],
            room=c.room[rows], modality=c.modality[rows],
            room_capabilities=c.room_capabilities[rows],
            room_max_weight_kg=c.room_max_weight_kg[rows],
            template_families=c.families[rows], radiologist_present=c.radiologist_present[rows],
            free_run_min=runs.free_run_min)
        return ModalityView(table, rows, runs.free)

    def _free_runs(self, modality: Modality, rows: slice, now_s: int) -> _FreeRuns:
        """Free flags and free runs of a modality, reused until the index changes or the next
        hold on it expires (the only way time alone frees a slot)."""
        cached = self._free_cache.get(modality)
        if cached is not None and cached.version == self._version and (
                cached.computed_at_s <= now_s < cached.valid_until_s):
            return cached
        version, c = self._version, self.columns
        occupied = c.occupied_until_s[rows]
        free = c.open[rows] & (occupied <= now_s)
        holds = occupied[(occupied > now_s) & (occupied < BOOKED_FOREVER)]
        runs = _FreeRuns(version, now_s, int(holds.min()) if len(holds) else BOOKED_FOREVER,
                         free, free_runs(c.length_min[rows], free, c.ends_run[rows]))
        self._free_cache[modality] = runs
        return runs

    def positions(self, slot_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Row positions of slot ids (-1 where the index does not hold the id)."""
        ids = np.asarray(slot_ids, dtype=np.int64)
        sorted_ids = self.columns.ids[self._order_by_id]
        at = np.clip(np.searchsorted(sorted_ids, ids), 0, max(len(sorted_ids) - 1, 0))
        found = sorted_ids[at] == ids if len(sorted_ids) else np.zeros(len(ids), dtype=bool)
        return np.where(found, self._order_by_id[at] if len(sorted_ids) else -1, -1)

    def load(self, session: Session, slot_rows: Select | None = None) -> None:
        """Replace the contents with every slot (or the rows of `slot_rows`, a filtered
        `slot_rows_query`) and the active appointments on them."""
        sites = list(session.scalars(select(Site).order_by(Site.site_id)))
        rooms = list(session.scalars(select(Room).order_by(Room.room_id)))
        self.sites = site_table(sites)
        self.site_names = tuple(s.name for s in sites)
        self.room_ids = tuple(r.room_id for r in rooms)
        dialect = session.get_bind().dialect.name
        query = slot_rows if slot_rows is not None else slot_rows_query(dialect)
        rows = session.connection().execute(query).all()  # Core rows: no ORM per-row work
        self._columns = slot_columns(rows, sites, rooms)
        self._order_by_id = np.argsort(self._columns.ids, kind="stable")
        self._bounds = _modality_bounds(self._columns.modality)
        self._version += 1
        active = session.execute(_appointment_query(dialect).where(
            col(Appointment.state).in_(ACTIVE_STATES))).all()
        self._apply_appointments(active)
        self._prime_free_runs()

    def _prime_free_runs(self) -> None:
        """Work out every modality's free runs now, as part of the load, so the first search
        of each modality does not pay for it."""
        now_s = int(time.time())
        for modality, rows in self._bounds.items():
            self._free_runs(modality, rows, now_s)

    def _catch_up(self, session: Session, since: datetime) -> bool:
        """Apply changes stamped at or after `since`; False if a full reload is needed."""
        changed = session.execute(
            select(Slot.id, Slot.status).where(col(Slot.changed_at) >= since)
            .order_by(Slot.changed_at).limit(CATCH_UP_LIMIT + 1)).all()
        if len(changed) > CATCH_UP_LIMIT:
            return False
        if changed:
            self._version += 1
            at = self.positions([row[0] for row in changed])
            if (at < 0).any():
                return False
            self.columns.open[at] = [str(row[1]) not in CLOSED_STATUSES for row in changed]
        dialect = session.get_bind().dialect.name
        appointments = session.execute(_appointment_query(dialect).where(
            col(Appointment.updated_at) >= since)).all()
        if appointments:
            self._version += 1
        self._apply_appointments(appointments)
        return True

    def _apply_appointments(self, rows: Sequence) -> None:
        """Releases first, then occupants: one slot has at most one active appointment."""
        c = self.columns
        ended = [r for r in rows if AppointmentState(r[2]) not in ACTIVE_STATES]
        active = [r for r in rows if AppointmentState(r[2]) in ACTIVE_STATES]
        for group, occupied in ((ended, None), (active, True)):
            if not group:
                continue
            first = self.positions([r[0] for r in group])
            ends = np.array([r[1] or 0 for r in group], dtype=np.int64) // 60
            if occupied is None:
                until = np.zeros(len(group), dtype=np.int64)
            else:
                until = np.array([BOOKED_FOREVER if r[2] == AppointmentState.BOOKED else
                                  (r[3] or 0) for r in group], dtype=np.int64)
            _spread(c, first, ends, until)


def free_runs(length: np.ndarray, free: np.ndarray, ends_run: np.ndarray) -> np.ndarray:
    """Minutes of consecutive free slots from each slot to the next taken slot or the end of
    its session run (rows ordered by session, then time); 0 for a slot that is not free."""
    n = len(length)
    positions = np.arange(n)
    breaks = np.where(~free, positions, np.where(ends_run, positions + 1, n))
    next_break = np.minimum.accumulate(breaks[::-1])[::-1] if n else breaks
    before = np.concatenate(([0], np.cumsum(length, dtype=np.int64)))
    return (before[next_break] - before[positions]).astype(np.int32)


def _spread(c: SlotColumns, first: np.ndarray, end_min: np.ndarray, until: np.ndarray) -> None:
    """Set occupied_until_s on each appointment's first slot and the slots it runs into."""
    keep = first >= 0
    at, end_min, until = first[keep], end_min[keep], until[keep]
    room = c.room[at]
    while len(at):
        c.occupied_until_s[at] = until
        at = at + 1
        more = at < len(c.ids)
        at, room, end_min, until = at[more], room[more], end_min[more], until[more]
        more = (c.room[at] == room) & (c.start_min[at] < end_min)
        at, room, end_min, until = at[more], room[more], end_min[more], until[more]


def slot_columns(rows: Sequence, sites: Sequence[Site], rooms: Sequence[Room]) -> SlotColumns:
    """Columns from slot rows (id, session, room, start_s, end_s, families, status, template)
    sorted by room then start; every slot starts unoccupied."""
    site_code = {s.site_id: i for i, s in enumerate(sites)}
    room_code = {r.room_id: i for i, r in enumerate(rooms)}
    room_site = np.array([site_code[r.site_id] for r in rooms], dtype=np.int16)
    room_modality = np.array([MODALITY_CODE[Modality(r.modality)] for r in rooms], dtype=np.int8)
    room_caps = np.array([capability_mask(split_codes(r.capabilities)) for r in rooms],
                         dtype=np.uint16)
    room_weight = np.array([r.max_weight_kg for r in rooms], dtype=np.int16)
    ids, session, room_id, start_s, end_s, families, status, template = (
        list(column) for column in zip(*rows, strict=True)) if rows else ([],) * 8
    room = np.array([room_code[r] for r in room_id], dtype=np.int32)
    start_min = np.array(start_s, dtype=np.int64) // 60
    length = (np.array(end_s, dtype=np.int64) // 60 - start_min).astype(np.int32)
    session_arr = np.array(session, dtype=np.int64)
    contiguous = np.zeros(len(ids), dtype=bool)
    if len(ids) > 1:
        contiguous[:-1] = ((session_arr[1:] == session_arr[:-1])
                           & (start_min[1:] == start_min[:-1] + length[:-1]))
    radiologist = {t: radiologist_rostered(t) for t in set(template)}
    return SlotColumns(
        ids=np.array(ids, dtype=np.int64), session=session_arr, start_min=start_min,
        length_min=length, site=room_site[room], room=room, modality=room_modality[room],
        room_capabilities=room_caps[room], room_max_weight_kg=room_weight[room],
        families=np.array([families_mask(f) for f in families], dtype=np.uint32),
        radiologist_present=np.array([radiologist[t] for t in template], dtype=bool),
        open=np.array([str(s) not in CLOSED_STATUSES for s in status], dtype=bool),
        occupied_until_s=np.zeros(len(ids), dtype=np.int64), ends_run=~contiguous)


def _modality_bounds(modality: np.ndarray) -> dict[Modality, slice]:
    bounds = {}
    for member, code in MODALITY_CODE.items():
        where = np.flatnonzero(modality == code)
        if len(where):
            bounds[member] = slice(int(where[0]), int(where[-1]) + 1)
    return bounds


def slot_rows_query(dialect: str) -> Select:
    """The slot rows `slot_columns` reads, in its order (modality, room, start)."""
    return select(
        Slot.id, Slot.session_id, Slot.room_id, _epoch(col(Slot.start_at), dialect),
        _epoch(col(Slot.end_at), dialect), Slot.families,
        type_coerce(Slot.status, String()), Slot.template_id,
    ).order_by(*SLOT_SORT)


def _appointment_query(dialect: str) -> Select:
    """(first slot id, end, state, hold expiry) of appointments, ends in epoch seconds."""
    return select(Appointment.slot_id, _epoch(col(Appointment.end_at), dialect),
                  Appointment.state, _epoch(col(Appointment.held_until), dialect)
                  ).order_by(Appointment.updated_at)


def _epoch(column: ColumnElement, dialect: str) -> ColumnElement:
    """Seconds since the epoch of a UTC timestamp column, computed by the database."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.extract("epoch", column), BigInteger)

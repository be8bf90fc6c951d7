"""An in-memory, columnar copy of every slot, so one search judges hundreds of thousands of
slots with a few numpy operations instead of a database round trip per slot.

It is a cache, never the truth: the booking path re-checks everything under its lock. It
loads all slots once (each modality one contiguous block, each room session a run), then
catches up by reading the slots and appointments whose database-written change stamps say
they committed since its last look (`booking_api.core.change_stamps`: no node's clock, no
margin, however long the writing transaction ran). Changed slots are updated in place; new
ones (a diary build) are merged in; more changed slots than `catch_up_limit` and it reloads.
Catching up is throttled (`max_staleness_s`). Loads read in chunks, so a reload holds the old
columns plus one chunk of rows, not two copies of everything.

A followed index (`builds_beside`, set by `IndexFollower`) never merges or reloads in a
catch-up: merging a week of new slots takes seconds, and a booking committed meanwhile would
wait for it. Catch-ups then apply changes to known slots in place and leave new and moved
slots to `build_beside`, which builds the merged (or reloaded) version on a copy outside the
lock, replays onto it what committed since the point it read from, and swaps it in under a
brief lock. Its reads start where the live index first left work to it, so nothing committed
after that is missed, and nothing before it was left out of the live index.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    String,
    cast,
    func,
    select,
    type_coerce,
)
from sqlmodel import Session, col

from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.core.change_stamps import ChangeCursor, take_cursor
from booking_api.core.columns import split_codes
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
CATCH_UP_LIMIT = 250_000
"""More changed slots than this since the last look and a full reload is cheaper than merging
(a four-week diary build of the reference network writes ~410,000)."""
LOAD_CHUNK = 10_000
"""Rows turned into Python objects at a time while loading or catching up: bounds a reload's
extra memory, and how long one fetch holds the interpreter (the driver builds a fetch's rows
without letting the follower or a request thread run: 130,000 rows at once held up a node's
bookings by a second on a loaded machine)."""
SWAP_WHEN_FEWER = 5_000
"""A build beside the live index swaps in once a catch-up outside the lock saw fewer changed
slots than this (the last, under the lock, then has about as little to apply)."""
CATCH_UP_ROUNDS = 3
"""Catch-ups outside the lock a build beside makes at most before its swap."""


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

    def take(self, rows: np.ndarray) -> SlotColumns:
        """The rows `rows` (a mask or positions), as new arrays."""
        return SlotColumns(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def copy(self) -> SlotColumns:
        return SlotColumns(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    @staticmethod
    def join(parts: Sequence[SlotColumns]) -> SlotColumns:
        return SlotColumns(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                              for f in fields(SlotColumns)})


@dataclass(frozen=True)
class _FreeRuns:
    columns: SlotColumns
    version: int
    computed_at_s: int
    valid_until_s: int
    free: np.ndarray
    free_run_min: np.ndarray


@dataclass(frozen=True)
class ModalityView:
    """One modality's rows: a SlotTable the rules evaluate, the slice it came from and the
    columns it is a slice of (a catch-up may replace the index's columns meanwhile)."""

    table: SlotTable
    rows: slice
    free: np.ndarray
    columns: SlotColumns


@dataclass(frozen=True)
class _Loaded:
    """What a load or merge installs at once, so a reader never mixes two generations."""

    columns: SlotColumns
    order_by_id: np.ndarray
    bounds: dict[Modality, slice]

    @classmethod
    def of(cls, columns: SlotColumns) -> _Loaded:
        return cls(columns, np.argsort(columns.ids, kind="stable"),
                   _modality_bounds(columns.modality))

    @property
    def top_id(self) -> int:
        """The largest slot id held (0 when empty)."""
        return int(self.columns.ids[self.order_by_id[-1]]) if len(self.order_by_id) else 0

    def copy(self) -> _Loaded:
        """Columns of its own (the order and bounds are never changed in place)."""
        return _Loaded(self.columns.copy(), self.order_by_id, self.bounds)

    def positions(self, slot_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Row positions of slot ids (-1 where these columns do not hold the id)."""
        ids = np.asarray(slot_ids, dtype=np.int64)
        if not len(self.columns.ids):
            return np.full(len(ids), -1, dtype=np.int64)
        sorted_ids = self.columns.ids[self.order_by_id]
        at = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
        return np.where(sorted_ids[at] == ids, self.order_by_id[at], -1)


@dataclass
class _Generation:
    """One version of the whole index: its columns, the codes they were made with, and the
    cursor taken before the reads they reflect (every commit before it is in them)."""

    loaded: _Loaded
    coder: _SlotCoder
    site_names: tuple[str, ...]
    room_ids: tuple[str, ...]
    cursor: ChangeCursor


@dataclass(frozen=True)
class _LeftToBuild:
    """Slot changes a followed index's catch-ups left to `build_beside`: it reads everything
    committed after `since` (the live cursor before the first catch-up that left some), and
    reloads instead of merging when `reload`."""

    since: ChangeCursor
    reload: bool


class SlotIndex:
    """The slots of the whole network in memory, caught up from the database on demand."""

    def __init__(self, max_staleness_s: float = 0.25,
                 catch_up_limit: int = CATCH_UP_LIMIT) -> None:
        self.max_staleness_s = max_staleness_s
        self.catch_up_limit = catch_up_limit
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._coder: _SlotCoder | None = None
        self.sites: SiteTable | None = None
        self.site_names: tuple[str, ...] = ()
        self.room_ids: tuple[str, ...] = ()
        self._cursor: ChangeCursor | None = None
        self._checked_at = 0.0
        self._version = 0
        self._free_cache: dict[Modality, _FreeRuns] = {}
        self.caught_up_at: float | None = None
        """time.monotonic() when the index last finished catching up (None: never loaded)."""
        self.reloads = 0
        self.builds_beside = False
        """Whether catch-ups leave merges and reloads to `build_beside` (a follower's)."""
        self._left: _LeftToBuild | None = None
        self.swaps = 0
        """Versions built beside the live index and swapped in."""

    @property
    def columns(self) -> SlotColumns:
        if self._loaded is None:
            raise RuntimeError("the slot index has not been loaded; call refresh() first")
        return self._loaded.columns

    @property
    def loaded(self) -> bool:
        """Whether the slots have been read once (searches answer without a full load)."""
        return self._loaded is not None

    def __len__(self) -> int:
        return 0 if self._loaded is None else len(self._loaded.columns.ids)

    @property
    def build_wanted(self) -> bool:
        """Whether catch-ups have left new or moved slots (or a reload) to `build_beside`."""
        return self._left is not None

    def refresh(self, session: Session, force: bool = False, wait: bool = True) -> None:
        """Catch up with the database unless it did so less than max_staleness_s ago. With
        `wait` false, a loaded index that another thread is catching up (or reloading) is
        left to it: the caller reads the contents as they are, instead of queueing."""
        if not force and time.monotonic() - self._checked_at < self.max_staleness_s:
            return
        if not self._lock.acquire(blocking=wait or self._loaded is None):
            return
        try:
            if not force and time.monotonic() - self._checked_at < self.max_staleness_s:
                return
            caught_up = True
            if self._cursor is None:
                self.load(session)
            elif self.builds_beside:
                caught_up = self._catch_up_in_place(session.connection())
            elif not self._catch_up(session.connection()):
                self.load(session)
            self._checked_at = time.monotonic()
            if caught_up:
                self.caught_up_at = self._checked_at
        finally:
            self._lock.release()

    def build_beside(self, reading: Callable[[], AbstractContextManager[Session]]) -> bool:
        """Build what catch-ups left (`build_wanted`) on a version of its own while the live
        index keeps taking changes in place: merge the new and moved slots into a copy (or
        reload), catch the copy up outside the lock until little is left, then apply that and
        swap it in under the lock. `reading` opens a read-only session. False if nothing was
        left to build."""
        with self._lock:
            left = self._left
            if left is None:
                return False
            base = None if left.reload else _Generation(
                self._loaded.copy(), self._coder, self.site_names, self.room_ids, left.since)
        with reading() as session:
            built = base and _caught_up(base, session.connection(), self.catch_up_limit)
            if built is None:
                built = _read_generation(session)
        for _ in range(CATCH_UP_ROUNDS):
            with reading() as session:
                caught = _caught_up(built, session.connection(), self.catch_up_limit)
                built = caught or _read_generation(session)
            if caught is not None and caught.changed_slots < SWAP_WHEN_FEWER:
                break
        with self._lock, reading() as session:
            caught = _caught_up(built, session.connection(), self.catch_up_limit)
            self._adopt(caught or _read_generation(session))
            self._checked_at = self.caught_up_at = time.monotonic()
            self.swaps += 1
        self._prime_free_runs()
        return True

    def behind_s(self) -> float | None:
        """Seconds since the index last finished catching up (None: never loaded)."""
        return None if self.caught_up_at is None else time.monotonic() - self.caught_up_at

    def view(self, modality: Modality, now_s: int) -> ModalityView:
        """The modality's slots as a SlotTable whose free runs count only slots free at now."""
        loaded = self._loaded
        if loaded is None:
            raise RuntimeError("the slot index has not been loaded; call refresh() first")
        c, rows = loaded.columns, loaded.bounds.get(modality, slice(0, 0))
        runs = self._free_runs(modality, rows, now_s, c)
        table = SlotTable(
            start_min=c.start_min[rows], length_min=c.length_min[rows], site=c.site[rows],
            room=c.room[rows], modality=c.modality[rows],
            room_capabilities=c.room_capabilities[rows],
            room_max_weight_kg=c.room_max_weight_kg[rows],
            template_families=c.families[rows], radiologist_present=c.radiologist_present[rows],
            free_run_min=runs.free_run_min)
        return ModalityView(table, rows, runs.free, c)

    def _free_runs(self, modality: Modality, rows: slice, now_s: int,
                   c: SlotColumns) -> _FreeRuns:
        """Free flags and free runs of a modality, reused until the index changes or the next
        hold on it expires (the only way time alone frees a slot). Every change bumps the
        version after it is made, so runs worked out during a change are never reused."""
        cached = self._free_cache.get(modality)
        if cached is not None and cached.columns is c and cached.version == self._version and (
                cached.computed_at_s <= now_s < cached.valid_until_s):
            return cached
        version = self._version
        occupied = c.occupied_until_s[rows]
        free = c.open[rows] & (occupied <= now_s)
        holds = occupied[(occupied > now_s) & (occupied < BOOKED_FOREVER)]
        runs = _FreeRuns(c, version, now_s,
                         int(holds.min()) if len(holds) else BOOKED_FOREVER,
                         free, free_runs(c.length_min[rows], free, c.ends_run[rows]))
        self._free_cache[modality] = runs
        return runs

    def positions(self, slot_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Row positions of slot ids (-1 where the index does not hold the id)."""
        loaded = self._loaded
        if loaded is None:
            return np.full(len(slot_ids), -1, dtype=np.int64)
        return loaded.positions(slot_ids)

    def load(self, session: Session, slot_rows: Select | None = None) -> None:
        """Replace the contents with every slot (or the rows of `slot_rows`, a filtered
        `slot_rows_query`) and the active appointments on them."""
        self._adopt(_read_generation(session, slot_rows))
        self.reloads += 1
        self._prime_free_runs()

    def _adopt(self, generation: _Generation) -> None:
        """Make `generation` the live index; nothing is left to build beside it."""
        self._coder, self.sites = generation.coder, generation.coder.sites
        self.site_names, self.room_ids = generation.site_names, generation.room_ids
        self._loaded = generation.loaded
        self._version += 1
        self._cursor = generation.cursor
        self._left = None

    def _live(self) -> _Generation:
        return _Generation(self._loaded, self._coder, self.site_names, self.room_ids,
                           self._cursor)

    def _changed(self) -> None:
        """Called after each change of the live columns: runs worked out meanwhile are not
        kept."""
        self._version += 1

    def _prime_free_runs(self) -> None:
        """Work out every modality's free runs now, as part of the load, so the first search
        of each modality does not pay for it."""
        now_s = int(time.time())
        loaded = self._loaded
        for modality, rows in loaded.bounds.items():
            self._free_runs(modality, rows, now_s, loaded.columns)

    def _catch_up(self, connection: Connection) -> bool:
        """Apply what committed since the last look (and what a follower left to build
        beside it, if it stopped first); False if a full reload is needed."""
        live, left = self._live(), self._left
        if left is not None:
            if left.reload:
                return False
            live.cursor = left.since
        caught = _caught_up(live, connection, self.catch_up_limit, self._changed)
        if caught is None:
            return False
        self._loaded, self._cursor, self._left = caught.loaded, caught.cursor, None
        self._changed()
        return True

    def _catch_up_in_place(self, connection: Connection) -> bool:
        """Apply changes to known slots and appointments; leave new and moved slots (or, with
        more than `catch_up_limit` changed, everything: the live index then waits for the
        reload) to `build_beside`. The query asks only for known ids, so a diary build's
        new rows are not read here, only noticed. False while waiting for a reload."""
        if self._left is not None and self._left.reload:
            return False
        before, loaded = self._cursor, self._loaded
        cursor = take_cursor(connection)
        dialect = connection.dialect.name
        unseen = before.unseen(Slot.__table__)
        changed = connection.execute(
            slot_rows_query(dialect, ordered=False).where(unseen, Slot.id <= loaded.top_id)
            .limit(self.catch_up_limit + 1)).all()
        if len(changed) > self.catch_up_limit or not self._coder.knows_rooms(changed):
            self._leave(before, reload=True)
            return False
        moved = False
        if changed:
            columns = self._coder.columns(changed)
            at, in_place = _placed(loaded, columns)
            _update_in_place(loaded.columns, columns, at, in_place)
            self._changed()
            moved = not in_place.all()
        new = connection.execute(select(Slot.id).where(unseen, Slot.id > loaded.top_id)
                                 .limit(1)).first()
        if moved or new is not None:
            self._leave(before, reload=False)
        _catch_up_appointments(loaded, connection, before, self._changed)
        self._cursor = cursor
        return True

    def _leave(self, since: ChangeCursor, reload: bool) -> None:
        left = self._left
        self._left = (_LeftToBuild(since, reload) if left is None else
                      _LeftToBuild(left.since, left.reload or reload))


@dataclass
class _Caught(_Generation):
    changed_slots: int = 0
    """Slot rows the catch-up read."""


def _caught_up(generation: _Generation, connection: Connection, limit: int,
               changed: Callable[[], None] = lambda: None) -> _Caught | None:
    """`generation` with what committed since its cursor applied: known slots updated in
    place (then `changed()`), new and moved ones merged into new columns, appointments
    applied (then `changed()`). None when more than `limit` slots changed, or slots of rooms
    it does not know: reload instead."""
    cursor = take_cursor(connection)
    coder = generation.coder
    result = connection.execute(
        slot_rows_query(connection.dialect.name, ordered=False)
        .where(generation.cursor.unseen(Slot.__table__)).limit(limit + 1))
    parts, count = [], 0
    for rows in result.partitions(LOAD_CHUNK):
        count += len(rows)
        if count > limit or not coder.knows_rooms(rows):
            result.close()
            return None
        parts.append(coder.columns(rows))
    loaded = generation.loaded
    if parts:
        columns = SlotColumns.join(parts) if len(parts) > 1 else parts[0]
        del parts
        at, in_place = _placed(loaded, columns)
        _update_in_place(loaded.columns, columns, at, in_place)
        changed()
        if not in_place.all():
            loaded = _merged(loaded, columns, at, in_place)
    _catch_up_appointments(loaded, connection, generation.cursor, changed)
    return _Caught(loaded, coder, generation.site_names, generation.room_ids, cursor,
                   changed_slots=count)


def _catch_up_appointments(loaded: _Loaded, connection: Connection, since: ChangeCursor,
                           changed: Callable[[], None]) -> None:
    dialect = connection.dialect.name
    appointments = connection.execute(_appointment_query(dialect).where(
        since.unseen(Appointment.__table__))).all()
    if appointments:
        _apply_appointments(loaded, [*appointments, *_still_active_where_ended(
            connection, dialect, appointments)])
        changed()


def _placed(loaded: _Loaded, changed: SlotColumns) -> tuple[np.ndarray, np.ndarray]:
    """Each changed slot's row (-1: not held), and whether it is still in its place there
    (same room, start, length and session)."""
    c = loaded.columns
    at = loaded.positions(changed.ids)
    in_place = at >= 0
    known = at[in_place]
    in_place[in_place] = ((c.room[known] == changed.room[in_place])
                          & (c.start_min[known] == changed.start_min[in_place])
                          & (c.length_min[known] == changed.length_min[in_place])
                          & (c.session[known] == changed.session[in_place]))
    return at, in_place


def _update_in_place(c: SlotColumns, changed: SlotColumns, at: np.ndarray,
                     in_place: np.ndarray) -> None:
    rows = at[in_place]
    for name in ("open", "families", "radiologist_present"):
        getattr(c, name)[rows] = getattr(changed, name)[in_place]


def _merged(loaded: _Loaded, changed: SlotColumns, at: np.ndarray,
            in_place: np.ndarray) -> _Loaded:
    """New columns with the new slots of `changed` and those whose place moved in their
    places (a moved slot keeps its occupant until the appointments are read)."""
    c = loaded.columns
    moved = (at >= 0) & ~in_place
    changed.occupied_until_s[moved] = c.occupied_until_s[at[moved]]
    keep = np.ones(len(c.ids), dtype=bool)
    keep[at[moved]] = False
    merged = SlotColumns.join([c.take(keep), changed.take(~in_place)])
    merged = merged.take(np.lexsort((merged.start_min, merged.room, merged.modality)))
    merged.ends_run = ends_run(merged)
    return _Loaded.of(merged)


def _read_generation(session: Session, slot_rows: Select | None = None) -> _Generation:
    """Every slot (or the rows of `slot_rows`) and the active appointments on them."""
    connection = session.connection()
    cursor = take_cursor(connection)  # before reading: what commits later is read later
    sites = list(session.scalars(select(Site).order_by(Site.site_id)))
    rooms = list(session.scalars(select(Room).order_by(Room.room_id)))
    coder = _SlotCoder(sites, rooms)
    dialect = connection.dialect.name
    query = slot_rows if slot_rows is not None else slot_rows_query(dialect)
    result = connection.execute(query)  # Core rows, converted a chunk at a time
    parts = [coder.columns(rows) for rows in result.partitions(LOAD_CHUNK)]
    columns = SlotColumns.join(parts) if parts else coder.columns([])
    del parts
    columns.ends_run = ends_run(columns)
    loaded = _Loaded.of(columns)
    active = connection.execute(_appointment_query(dialect).where(
        col(Appointment.state).in_(ACTIVE_STATES))).all()
    _apply_appointments(loaded, active)  # before searches can see the new columns
    return _Generation(loaded, coder, tuple(s.name for s in sites),
                       tuple(r.room_id for r in rooms), cursor)


def _apply_appointments(loaded: _Loaded, rows: Sequence) -> None:
    """Releases first, then occupants: one slot has at most one active appointment."""
    c = loaded.columns
    ended = [r for r in rows if AppointmentState(r[2]) not in ACTIVE_STATES]
    active = [r for r in rows if AppointmentState(r[2]) in ACTIVE_STATES]
    for group, occupied in ((ended, None), (active, True)):
        if not group:
            continue
        first = loaded.positions([r[0] for r in group])
        ends = np.array([r[1] or 0 for r in group], dtype=np.int64) // 60
        if occupied is None:
            until = np.zeros(len(group), dtype=np.int64)
        else:
            until = np.array([BOOKED_FOREVER if r[2] == AppointmentState.BOOKED else
                              (r[3] or 0) for r in group], dtype=np.int64)
        _spread(c, first, ends, until)


def _still_active_where_ended(connection: Connection, dialect: str,
                              rows: Sequence) -> list:
    """Active appointments in the rooms and times of the ended ones among `rows`: releasing
    an ended appointment must not free a slot another one has since taken (it may have been
    applied in an earlier look)."""
    ended = [r for r in rows if AppointmentState(r[2]) not in ACTIVE_STATES and r[4]]
    if not ended:
        return []
    start = datetime.fromtimestamp(min(r[5] or 0 for r in ended), tz=UTC)
    end = datetime.fromtimestamp(max(r[1] or 0 for r in ended), tz=UTC)
    return list(connection.execute(_appointment_query(dialect).where(
        col(Appointment.state).in_(ACTIVE_STATES),
        col(Appointment.room_id).in_(sorted({r[4] for r in ended})),
        col(Appointment.start_at) < end, col(Appointment.end_at) > start)))


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


class _SlotCoder:
    """Turns slot rows (id, session, room, start_s, end_s, families, status, template) into
    columns, with the codes of the sites and rooms loaded with them."""

    def __init__(self, sites: Sequence[Site], rooms: Sequence[Room]) -> None:
        self.sites = site_table(sites)
        site_code = {s.site_id: i for i, s in enumerate(sites)}
        self.room_code = {r.room_id: i for i, r in enumerate(rooms)}
        self.room_site = np.array([site_code[r.site_id] for r in rooms], dtype=np.int16)
        self.room_modality = np.array([MODALITY_CODE[Modality(r.modality)] for r in rooms],
                                      dtype=np.int8)
        self.room_caps = np.array([capability_mask(split_codes(r.capabilities))
                                   for r in rooms], dtype=np.uint16)
        self.room_weight = np.array([r.max_weight_kg for r in rooms], dtype=np.int16)
        self._radiologist: dict[str | None, bool] = {}

    def knows_rooms(self, rows: Sequence) -> bool:
        return all(row[2] in self.room_code for row in rows)

    def columns(self, rows: Sequence) -> SlotColumns:
        """Columns of `rows` in their order; every slot unoccupied, `ends_run` left to the
        caller (`ends_run`, once rows are sorted)."""
        ids, session, room_id, start_s, end_s, families, status, template = (
            list(column) for column in zip(*rows, strict=True)) if rows else ([],) * 8
        room = _coded(room_id, self.room_code.__getitem__, np.int32)
        start_min = np.array(start_s, dtype=np.int64) // 60
        length = (np.array(end_s, dtype=np.int64) // 60 - start_min).astype(np.int32)
        return SlotColumns(
            ids=np.array(ids, dtype=np.int64), session=np.array(session, dtype=np.int64),
            start_min=start_min, length_min=length, site=self.room_site[room], room=room,
            modality=self.room_modality[room], room_capabilities=self.room_caps[room],
            room_max_weight_kg=self.room_weight[room],
            families=_coded(families, families_mask, np.uint32),
            radiologist_present=_coded(template, self._rostered, bool),
            open=_coded(status, lambda s: str(s) not in CLOSED_STATUSES, bool),
            occupied_until_s=np.zeros(len(ids), dtype=np.int64),
            ends_run=np.ones(len(ids), dtype=bool))

    def _rostered(self, template: str | None) -> bool:
        if template not in self._radiologist:
            self._radiologist[template] = radiologist_rostered(template)
        return self._radiologist[template]


def _coded(values: list, code: Callable[[Any], Any], dtype: Any) -> np.ndarray:
    """`code` of every value, worked out once per distinct value (a few hundred rooms,
    families and templates among a million slots)."""
    codes: dict[Any, Any] = {}
    for value in set(values):
        codes[value] = code(value)
    return np.fromiter((codes[v] for v in values), dtype=dtype, count=len(values))


def slot_columns(rows: Sequence, sites: Sequence[Site], rooms: Sequence[Room]) -> SlotColumns:
    """Columns from slot rows already sorted by room then start."""
    columns = _SlotCoder(sites, rooms).columns(rows)
    columns.ends_run = ends_run(columns)
    return columns


def ends_run(c: SlotColumns) -> np.ndarray:
    """True where the next row is not the next slot of the same session."""
    contiguous = np.zeros(len(c.ids), dtype=bool)
    if len(c.ids) > 1:
        contiguous[:-1] = ((c.session[1:] == c.session[:-1])
                           & (c.start_min[1:] == c.start_min[:-1] + c.length_min[:-1]))
    return ~contiguous


def _modality_bounds(modality: np.ndarray) -> dict[Modality, slice]:
    bounds = {}
    for member, code in MODALITY_CODE.items():
        where = np.flatnonzero(modality == code)
        if len(where):
            bounds[member] = slice(int(where[0]), int(where[-1]) + 1)
    return bounds


def slot_rows_query(dialect: str, ordered: bool = True) -> Select:
    """The slot rows `slot_columns` reads, in its order (modality, room, start) if `ordered`."""
    query = select(
        Slot.id, Slot.session_id, Slot.room_id, _epoch(col(Slot.start_at), dialect),
        _epoch(col(Slot.end_at), dialect), Slot.families,
        type_coerce(Slot.status, String()), Slot.template_id)
    return query.order_by(*SLOT_SORT) if ordered else query


def _appointment_query(dialect: str) -> Select:
    """(first slot id, end, state, hold expiry, room, start) of appointments, times in epoch
    seconds."""
    return select(Appointment.slot_id, _epoch(col(Appointment.end_at), dialect),
                  Appointment.state, _epoch(col(Appointment.held_until), dialect),
                  Appointment.room_id, _epoch(col(Appointment.start_at), dialect))


def _epoch(column: ColumnElement, dialect: str) -> ColumnElement:
    """Seconds since the epoch of a UTC timestamp column, computed by the database."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), BigInteger)
    return cast(func.extract("epoch", column), BigInteger)

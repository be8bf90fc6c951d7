"""The slot index never misses a commit: interleaved writers whose clocks disagree, whose
transactions stay open while nodes look and commit late, bulk inserts of new slots, and
rollbacks. After every look, each node's index equals one freshly loaded from the database,
on SQLite (one writer at a time) and on PostgreSQL (several transactions open at once).

A followed node (one an `IndexFollower` keeps) leaves new slots to a version built beside its
live index: after every look its live index equals the database on every slot it holds, and
after every build it equals the database outright."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlmodel import Session

from booking_api.appointments.models import ACTIVE_STATES, Appointment
from booking_api.core.change_stamps import parse_snapshot, take_cursor
from booking_api.core.channel import Channel
from booking_api.core.db import Database, make_session_factory, read_only, transaction
from booking_api.search import index as index_module
from booking_api.search.follower import IndexFollower, index_readiness
from booking_api.search.index import SlotIndex
from booking_api.slots.models import Slot
from domain.lifecycle import AppointmentState, SlotStatus
from domain.vocabulary import Modality
from tests.booking_api.booking_world import (
    World,
    booking_engine,
    build_world,
    migrated_engine,
)

__all__ = ["booking_engine", "migrated_engine"]

COMPARED = ("open", "occupied_until_s", "families", "start_min", "length_min", "room",
            "session", "ends_run")
WRITES = ("book", "hold", "cancel", "close", "reopen", "add_slots")
STEPS = st.lists(st.tuples(
    st.sampled_from(("begin", "commit", "rollback", "look", "build", *WRITES, *WRITES)),
    st.integers(0, 2),  # which writer or node
    st.integers(0, 10_000),  # which slot or appointment
    st.integers(-600, 600),  # the writer's clock error, seconds
), min_size=5, max_size=45)


@pytest.fixture
def world(booking_engine: Engine, tiny_network, tiny_catalogue) -> World:
    return build_world(booking_engine, tiny_network, tiny_catalogue, slots_per_room=5,
                       patients=25)  # no patient in two rooms at once (an exclusion constraint)


def test_cursor_reads_transactions_in_flight_at_the_last_look() -> None:
    cursor = parse_snapshot("100:105:101,103")

    assert (cursor.xmax, cursor.in_flight) == (105, frozenset({101, 103}))
    assert "change_seq IN" in str(cursor.unseen(Slot.__table__))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=STEPS)
def test_every_node_equals_the_database_after_every_look(world: World, steps) -> None:
    harness = _Harness.start(world)
    try:
        for step in steps:
            harness.run(*step)
        harness.finish()
    finally:
        harness.close()


def test_a_transaction_that_commits_long_after_its_stamp_is_still_seen(world: World) -> None:
    node = _loaded(world.engine)
    slot_id = world.slots["S1-XR1"][0]
    with world.engine.connect() as writer:
        transaction_ = writer.begin()
        writer.execute(update(Slot).where(Slot.id == slot_id).values(
            status=SlotStatus.BUSY_UNAVAILABLE,
            changed_at=datetime.now(UTC) - timedelta(hours=1)))  # a clock an hour slow
        for _ in range(3):
            _look(world.engine, node)
        transaction_.commit()

    _look(world.engine, node)

    assert not node.columns.open[node.positions([slot_id])[0]]


def test_a_node_too_far_behind_reloads(world: World) -> None:
    node = _loaded(world.engine, catch_up_limit=3)
    with transaction(world.engine) as session:
        session.execute(update(Slot).values(status=SlotStatus.BUSY_UNAVAILABLE))

    _look(world.engine, node)

    assert node.reloads == 2
    assert not node.columns.open.any()


def open_database_of(engine: Engine) -> Database:
    return Database(engine=engine, bookkeeping=engine, lookup=engine,
                    sessions=make_session_factory(engine),
                    read_sessions=make_session_factory(read_only(engine)))


def _loaded(engine: Engine, **options) -> SlotIndex:
    node = SlotIndex(max_staleness_s=0, **options)
    _look(engine, node)
    return node


def _look(engine: Engine, node: SlotIndex) -> None:
    with transaction(read_only(engine)) as session:
        node.refresh(session, force=True)


def _contents(node: SlotIndex, only: SlotIndex | None = None) -> dict[str, list]:
    """Every slot's columns by id; with `only`, just the slots `only` holds, and not where
    runs end (a slot added after a room's last one ends no run there until merged in)."""
    c = node.columns
    order = np.argsort(c.ids, kind="stable")
    names = COMPARED
    if only is not None:
        order = order[np.isin(c.ids[order], only.columns.ids)]
        names = tuple(name for name in COMPARED if name != "ends_run")
    return {"ids": c.ids[order].tolist(),
            **{name: getattr(c, name)[order].tolist() for name in names}}


def _followed(engine: Engine, **options) -> SlotIndex:
    """A loaded index as a follower keeps it: merges and reloads left to `build_beside`."""
    node = SlotIndex(max_staleness_s=0, **options)
    node.builds_beside = True
    _look(engine, node)
    return node


@contextmanager
def _reading(engine: Engine) -> Iterator[Session]:
    with transaction(read_only(engine)) as session:
        yield session


def _build(engine: Engine, node: SlotIndex) -> bool:
    return node.build_beside(lambda: _reading(engine))


@dataclass
class _Writer:
    connection: Connection
    skew: timedelta
    touched: set = field(default_factory=set)
    added: list = field(default_factory=list)


@dataclass
class _Harness:
    """Writers on their own connections, nodes looking between their statements."""

    world: World
    nodes: list[SlotIndex]
    writers: dict[int, _Writer] = field(default_factory=dict)
    concurrent: bool = False

    @classmethod
    def start(cls, world: World) -> _Harness:
        engine = world.engine
        return cls(world, [_loaded(engine), _loaded(engine), _followed(engine)],
                   concurrent=engine.dialect.name == "postgresql")

    def run(self, action: str, who: int, pick: int, skew_s: int) -> None:
        if action == "look":
            self._look(self.nodes[who % len(self.nodes)])
        elif action == "build":
            self._build(self.nodes[-1])
        elif action == "begin":
            self._begin(who, skew_s)
        elif action in ("commit", "rollback") and who in self.writers:
            writer = self.writers.pop(who)
            getattr(writer.connection, action)()
            writer.connection.close()
        elif action in WRITES:
            writer = self.writers.get(who) or self._begin(who, skew_s)
            if writer is not None:
                getattr(self, f"_{action}")(writer, pick)

    def finish(self) -> None:
        for who in list(self.writers):
            writer = self.writers.pop(who)
            writer.connection.commit()
            writer.connection.close()
        for node in self.nodes:
            self._look(node)
        self._build(self.nodes[-1])
        assert not self.nodes[-1].build_wanted
        assert _contents(self.nodes[-1]) == _contents(_loaded(self.world.engine))

    def close(self) -> None:
        for writer in self.writers.values():
            writer.connection.rollback()
            writer.connection.close()

    def _look(self, node: SlotIndex) -> None:
        _look(self.world.engine, node)
        fresh = _loaded(self.world.engine)
        if node.builds_beside:
            assert _contents(fresh, only=node) == _contents(node, only=node)
        else:
            assert _contents(node) == _contents(fresh)

    def _build(self, node: SlotIndex) -> None:
        """A build catches up to now; with nothing left to build there is none."""
        if _build(self.world.engine, node):
            assert _contents(node) == _contents(_loaded(self.world.engine))

    def _begin(self, who: int, skew_s: int) -> _Writer | None:
        if who in self.writers:
            return self.writers[who]
        if self.writers and not self.concurrent:
            return None  # SQLite: one writer at a time; nodes still look while it is open
        connection = self.world.engine.connect()
        connection.begin()
        self.writers[who] = _Writer(connection, timedelta(seconds=skew_s))
        return self.writers[who]

    def _free_to_touch(self, writer: _Writer, ids: list[int]) -> list[int]:
        others = set().union(*(w.touched for w in self.writers.values() if w is not writer))
        return [i for i in ids if i not in others]

    def _committed_slots(self) -> list[int]:
        with read_only(self.world.engine).connect() as connection:
            return list(connection.scalars(select(Slot.id).order_by(Slot.id)))

    def _active(self, connection: Connection) -> dict[int, int]:
        return dict(connection.execute(select(Appointment.slot_id, Appointment.id).where(
            Appointment.state.in_(ACTIVE_STATES))).all())

    def _take(self, writer: _Writer, pick: int, state: AppointmentState) -> None:
        active = self._active(writer.connection)
        ids = [i for i in self._free_to_touch(writer, self._committed_slots())
               if i not in active]
        if not ids:
            return
        slot = writer.connection.execute(select(Slot).where(
            Slot.id == ids[pick % len(ids)])).one()
        now = datetime.now(UTC) + writer.skew
        who = slot.id % len(self.world.patients)
        writer.connection.execute(insert(Appointment).values(
            request_id=self.world.requests[who], patient_id=self.world.patients[who],
            slot_id=slot.id, channel=Channel.CLERK, state=state, room_id=slot.room_id,
            start_at=slot.start_at, end_at=slot.end_at, created_at=now, updated_at=now,
            held_until=now + timedelta(minutes=10) if state is AppointmentState.HELD else None))
        writer.touched.add(slot.id)

    def _book(self, writer: _Writer, pick: int) -> None:
        self._take(writer, pick, AppointmentState.BOOKED)

    def _hold(self, writer: _Writer, pick: int) -> None:
        self._take(writer, pick, AppointmentState.HELD)

    def _cancel(self, writer: _Writer, pick: int) -> None:
        active = self._active(writer.connection)
        ids = self._free_to_touch(writer, sorted(active))
        if not ids:
            return
        slot_id = ids[pick % len(ids)]
        now = datetime.now(UTC) + writer.skew
        writer.connection.execute(update(Appointment).where(
            Appointment.id == active[slot_id]).values(
            state=AppointmentState.CANCELLED, cancelled_at=now, updated_at=now))
        writer.touched.add(slot_id)

    def _set_status(self, writer: _Writer, pick: int, status: SlotStatus) -> None:
        ids = self._free_to_touch(writer, self._committed_slots())
        if not ids:
            return
        slot_id = ids[pick % len(ids)]
        writer.connection.execute(update(Slot).where(Slot.id == slot_id).values(
            status=status, version=Slot.version + 1,
            changed_at=datetime.now(UTC) + writer.skew))
        writer.touched.add(slot_id)

    def _close(self, writer: _Writer, pick: int) -> None:
        self._set_status(writer, pick, SlotStatus.BUSY_UNAVAILABLE)

    def _reopen(self, writer: _Writer, pick: int) -> None:
        self._set_status(writer, pick, SlotStatus.FREE)

    def _add_slots(self, writer: _Writer, pick: int) -> None:
        """A bulk insert (a diary build's): new slots after the room's last, in its session."""
        if any("room" in w.touched for w in self.writers.values() if w is not writer):
            return
        last = writer.connection.execute(select(Slot).where(Slot.room_id == "S2-XR1")
                                         .order_by(Slot.start_at.desc()).limit(1)).one()
        count = 1 + pick % 30
        stamp = datetime.now(UTC) + writer.skew
        writer.connection.execute(insert(Slot), [
            {"session_id": last.session_id, "room_id": last.room_id, "site_id": last.site_id,
             "start_at": last.end_at + timedelta(minutes=10 * i),
             "end_at": last.end_at + timedelta(minutes=10 * (i + 1)), "modality": Modality.XR,
             "families": "XR_PLAIN", "template_id": last.template_id, "changed_at": stamp,
             "status": SlotStatus.FREE, "version": 1} for i in range(count)])
        writer.touched.add("room")


def test_take_cursor_before_reading_sees_every_later_commit(world: World) -> None:
    engine = world.engine
    with engine.connect() as connection:
        before = take_cursor(connection)
    with transaction(engine) as session:
        session.execute(update(Slot).values(version=Slot.version + 1))
    with engine.connect() as connection:
        unseen = connection.scalar(select(func.count()).select_from(Slot).where(
            before.unseen(Slot.__table__)))

    assert unseen == sum(len(ids) for ids in world.slots.values())


def test_a_follower_keeps_an_idle_node_caught_up_and_ready(world: World) -> None:
    node = SlotIndex(max_staleness_s=0)
    assert index_readiness(node, within_s=1) == "loading"
    follower = IndexFollower(open_database_of(world.engine), node, interval_s=0.05).start()
    try:
        _wait_until(lambda: node.loaded)
        slot_id = world.slots["S2-XR1"][1]
        with transaction(world.engine) as session:
            session.execute(update(Slot).where(Slot.id == slot_id).values(
                status=SlotStatus.BUSY_UNAVAILABLE))
        committed = time.monotonic()

        _wait_until(lambda: not node.columns.open[node.positions([slot_id])[0]])

        assert time.monotonic() - committed < 1.0
        assert index_readiness(node, within_s=1) is None
    finally:
        follower.stop()
    time.sleep(0.1)
    assert index_readiness(node, within_s=0.05).startswith("not caught up")
    assert index_readiness(node, within_s=0.05, following=False) is None


def _wait_until(condition, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_free_runs_worked_out_while_a_change_is_applied_are_not_kept(world: World,
                                                                    monkeypatch) -> None:
    node = _loaded(world.engine)
    slot_id = world.slots["S1-XR1"][2]
    with world.engine.begin() as connection:
        slot = connection.execute(select(Slot).where(Slot.id == slot_id)).one()
        connection.execute(insert(Appointment).values(
            request_id=world.requests[0], patient_id=world.patients[0], slot_id=slot_id,
            channel=Channel.CLERK, state=AppointmentState.BOOKED, room_id=slot.room_id,
            start_at=slot.start_at, end_at=slot.end_at))
    now_s = int(time.time())
    spread = index_module._spread

    def spread_while_a_search_runs(*args) -> None:
        node.view(Modality.XR, now_s)  # a search on another thread, mid-change
        spread(*args)

    monkeypatch.setattr(index_module, "_spread", spread_while_a_search_runs)
    _look(world.engine, node)
    monkeypatch.undo()
    view = node.view(Modality.XR, now_s)

    assert not view.free[node.positions([slot_id])[0] - view.rows.start]


def _add_slots(engine: Engine, count: int, room_id: str = "S2-XR1") -> list[int]:
    """New slots after the room's last one, in one transaction (a diary build's week)."""
    with engine.begin() as connection:
        last = connection.execute(select(Slot).where(Slot.room_id == room_id)
                                  .order_by(Slot.start_at.desc()).limit(1)).one()
        connection.execute(insert(Slot), [
            {"session_id": last.session_id, "room_id": last.room_id, "site_id": last.site_id,
             "start_at": last.end_at + timedelta(minutes=10 * i),
             "end_at": last.end_at + timedelta(minutes=10 * (i + 1)), "modality": Modality.XR,
             "families": "XR_PLAIN", "template_id": last.template_id,
             "status": SlotStatus.FREE, "version": 1} for i in range(count)])
        return list(connection.scalars(select(Slot.id).where(
            Slot.room_id == room_id, Slot.start_at > last.start_at).order_by(Slot.id)))


def _book(world: World, slot_id: int) -> int:
    with world.engine.begin() as connection:
        slot = connection.execute(select(Slot).where(Slot.id == slot_id)).one()
        who = slot_id % len(world.patients)
        return connection.execute(insert(Appointment).values(
            request_id=world.requests[who], patient_id=world.patients[who], slot_id=slot_id,
            channel=Channel.CLERK, state=AppointmentState.BOOKED, room_id=slot.room_id,
            start_at=slot.start_at, end_at=slot.end_at).returning(Appointment.id)).scalar_one()


def _cancel(world: World, appointment_id: int) -> None:
    with world.engine.begin() as connection:
        connection.execute(update(Appointment).where(Appointment.id == appointment_id)
                           .values(state=AppointmentState.CANCELLED,
                                   cancelled_at=datetime.now(UTC)))


def _taken(node: SlotIndex, slot_id: int) -> bool:
    at = node.positions([slot_id])[0]
    assert at >= 0, "the index does not hold the slot"
    return bool(node.columns.occupied_until_s[at] > 0)


def test_a_followed_index_takes_bookings_in_place_while_new_slots_wait_for_a_build(
        world: World) -> None:
    node = _followed(world.engine)
    new = _add_slots(world.engine, 20)
    _look(world.engine, node)
    taken = world.slots["S1-XR1"][0]
    _book(world, taken)

    _look(world.engine, node)

    assert node.build_wanted
    assert (node.positions(new) == -1).all()
    assert _taken(node, taken)


def test_a_build_beside_merges_the_new_slots_and_keeps_what_the_live_index_took(
        world: World) -> None:
    node = _followed(world.engine)
    _add_slots(world.engine, 20)
    _look(world.engine, node)
    _book(world, world.slots["S1-XR1"][0])
    _look(world.engine, node)

    assert _build(world.engine, node)

    assert (node.swaps, node.reloads, node.build_wanted) == (1, 1, False)
    assert _contents(node) == _contents(_loaded(world.engine))


@pytest.mark.parametrize("paused_before", [1, 2], ids=["catch-up", "swap"])
def test_changes_committed_while_a_build_is_under_way_are_applied_and_survive_the_swap(
        world: World, paused_before: int) -> None:
    """The build's sessions: 0 reads the new slots and merges them into a copy, 1 catches
    the copy up outside the lock, 2 catches it up under the lock and swaps it in."""
    node = _followed(world.engine)
    before = _book(world, world.slots["S1-XR1"][1])
    new = _add_slots(world.engine, 20)
    _look(world.engine, node)
    paused, resume = threading.Event(), threading.Event()
    sessions = itertools.count()

    @contextmanager
    def reading() -> Iterator[Session]:
        if next(sessions) == paused_before:
            paused.set()
            assert resume.wait(10)
        with _reading(world.engine) as session:
            yield session

    builder = threading.Thread(target=node.build_beside, args=(reading,))
    builder.start()
    try:
        assert paused.wait(10)
        taken, taken_new = world.slots["S1-XR1"][2], new[3]
        _book(world, taken)
        _book(world, taken_new)
        _cancel(world, before)
        if paused_before == 1:  # before the swap's lock: the live index keeps following
            _look(world.engine, node)
            assert _taken(node, taken) and not _taken(node, world.slots["S1-XR1"][1])
            assert (node.positions(new) == -1).all()
    finally:
        resume.set()
        builder.join(10)

    assert node.swaps == 1
    assert _taken(node, taken) and _taken(node, taken_new)
    assert not _taken(node, world.slots["S1-XR1"][1])
    assert _contents(node) == _contents(_loaded(world.engine))


def test_too_many_changed_slots_are_reloaded_beside_the_live_index(world: World) -> None:
    node = _followed(world.engine, catch_up_limit=3)
    with transaction(world.engine) as session:
        session.execute(update(Slot).values(status=SlotStatus.BUSY_UNAVAILABLE))
    _look(world.engine, node)

    assert node.build_wanted and node.columns.open.all()  # left as it was, not half-applied
    assert _build(world.engine, node)
    assert node.reloads == 1 and not node.columns.open.any()
    assert _contents(node) == _contents(_loaded(world.engine))


def test_a_follower_builds_new_slots_in_and_keeps_following(world: World) -> None:
    node = SlotIndex(max_staleness_s=0)
    follower = IndexFollower(open_database_of(world.engine), node, interval_s=0.05).start()
    try:
        _wait_until(lambda: node.loaded)
        new = _add_slots(world.engine, 20)
        _wait_until(lambda: (node.positions(new) >= 0).all())
        taken = new[0]
        _book(world, taken)

        _wait_until(lambda: _taken(node, taken))

        assert node.swaps == 1 and not node.build_wanted
    finally:
        follower.stop()
    assert not node.builds_beside


def test_an_index_no_longer_followed_merges_what_was_left_to_a_build(world: World) -> None:
    node = _followed(world.engine)
    new = _add_slots(world.engine, 20)
    _look(world.engine, node)
    node.builds_beside = False  # its follower stopped before building

    _look(world.engine, node)

    assert (node.positions(new) >= 0).all() and not node.build_wanted
    assert _contents(node) == _contents(_loaded(world.engine))

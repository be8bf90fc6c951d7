"""Two real `cdip serve` nodes on one PostgreSQL database, one with a clock 30 s slow: one
winner per slot across nodes, changes made on either node offered or withdrawn on both within
a second, a bulk insert of new slots committing long after it began offered by both within a
second of its commit, and a node killed mid-booking losing nothing."""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from booking_api.slots.models import Slot
from domain.lifecycle import SlotStatus
from tests.booking_api.conftest import make_tiny_catalogue, make_tiny_network
from tests.multinode import pgbouncer
from tests.multinode.nodes import (
    Cluster,
    Node,
    cluster_database,
    free_port,
    running_nodes,
    slot_invariant_breaches,
    slot_rows,
    wait_for,
)

pytestmark = pytest.mark.postgres
VISIBLE_WITHIN_S = 1.0
SLOW_CLOCK_S = "-30"


@pytest.fixture(scope="module")
def cluster(postgres_database_url: str):
    with cluster_database(postgres_database_url, make_tiny_network(), make_tiny_catalogue(),
                          requests=150, slots=50) as made:
        yield made


@pytest.fixture(scope="module")
def nodes(cluster: Cluster):
    """Nodes a and b (b's clock 30 s slow), c, killed by the last test, and p, through
    PgBouncer in transaction pooling where it is installed (all started at once: each spends
    seconds importing the service)."""
    with ExitStack() as stack:
        specs = {"a": {}, "b": {"CDIP_CLOCK_OFFSET_SECONDS": SLOW_CLOCK_S}, "c": {}}
        if pgbouncer.available():
            specs["p"] = {"CDIP_DATABASE_URL": stack.enter_context(
                pgbouncer.running_pgbouncer(cluster.url, free_port()))}
        yield stack.enter_context(running_nodes(cluster.url, specs))


@pytest.fixture(scope="module")
def requests(cluster: Cluster):
    return itertools.count().__next__, cluster.requests


def _request(requests) -> int:
    take, ids = requests
    return ids[take()]


def _free_slots(cluster: Cluster) -> set[int]:
    with cluster.engine.connect() as connection:
        return set(connection.scalars(select(Slot.id).where(
            Slot.status == SlotStatus.FREE, Slot.session_id == cluster.session_id)))


def _book(node: Node, request_id: int, slot_id: int) -> int:
    return node.post("/api/appointments", {"request_id": request_id,
                                           "slot_id": slot_id}).status_code


def test_one_booking_wins_a_slot_raced_from_both_nodes(cluster, nodes, requests) -> None:
    slot_id = min(_free_slots(cluster))
    attempts = [(nodes[i % 2], _request(requests)) for i in range(16)]  # a and b

    with ThreadPoolExecutor(8) as pool:
        statuses = Counter(pool.map(lambda a: _book(a[0], a[1], slot_id), attempts))

    assert statuses == {201: 1, 409: 15}
    assert slot_invariant_breaches(cluster.engine) == 0


@pytest.mark.parametrize("writer", [0, 1], ids=["on_the_true_clock", "on_the_slow_clock"])
def test_a_booking_and_its_cancellation_reach_both_nodes_within_a_second(
        cluster, nodes, requests, writer) -> None:
    request_id, slot_id = _request(requests), min(_free_slots(cluster))
    both = nodes[:2]
    for node in both:
        wait_for(lambda node=node: slot_id in node.offered(request_id, cluster.day))
    booked = nodes[writer].post("/api/appointments", {"request_id": request_id,
                                                      "slot_id": slot_id})
    assert booked.status_code == 201

    gone = [wait_for(lambda n=n: slot_id not in n.offered(request_id, cluster.day))
            for n in both]
    cancelled = nodes[writer].post(f"/api/appointments/{booked.json()['id']}/cancel",
                                   {"reason": "test"})
    assert cancelled.status_code == 200
    back = [wait_for(lambda n=n: slot_id in n.offered(request_id, cluster.day)) for n in both]

    assert max(gone + back) < VISIBLE_WITHIN_S


def test_a_long_bulk_insert_is_offered_by_both_nodes_within_a_second_of_its_commit(
        cluster, nodes, requests) -> None:
    request_id = _request(requests)
    started = datetime.now(UTC) - timedelta(hours=1)  # stamped as a build's start would be
    committed = threading.Event()
    new_ids: list[int] = []

    def build() -> None:
        with cluster.engine.begin() as connection:
            new_ids.extend(connection.scalars(insert(Slot).returning(Slot.id), slot_rows(
                cluster.session_id, cluster.day, 50, 20, stamp=started)))
            time.sleep(1.5)  # both nodes catch up many times while it stays open
        committed.set()

    builder = threading.Thread(target=build)
    builder.start()
    time.sleep(0.5)
    assert not set(new_ids) & nodes[0].offered(request_id, cluster.day)
    committed.wait(10)
    at = time.monotonic()
    waits = [wait_for(lambda node=node: set(new_ids) <= node.offered(request_id, cluster.day),
                      since=at) for node in nodes[:2]]
    builder.join()

    assert max(waits) < VISIBLE_WITHIN_S


def test_a_node_through_pgbouncer_books_and_cancels_again_and_again(cluster, nodes,
                                                                   requests) -> None:
    if len(nodes) < 4:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pgbouncer is not installed (apt-get install pgbouncer)")
        pytest.skip("pgbouncer is not installed")
    through, direct = nodes[3], nodes[0]
    statuses = []
    for _ in range(8):  # beyond psycopg's prepare threshold (5) on every pooled connection
        request_id, slot_id = _request(requests), min(_free_slots(cluster))
        booked = through.post("/api/appointments", {"request_id": request_id,
                                                    "slot_id": slot_id})
        statuses.append(booked.status_code)
        wait_for(lambda r=request_id, s=slot_id: s not in direct.offered(r, cluster.day))
        statuses.append(through.post(f"/api/appointments/{booked.json()['id']}/cancel",
                                     {"reason": "test"}).status_code)
        wait_for(lambda r=request_id, s=slot_id: s in through.offered(r, cluster.day))

    assert statuses == [201, 200] * 8
    assert slot_invariant_breaches(cluster.engine) == 0


def test_a_node_killed_mid_booking_loses_and_duplicates_nothing(cluster, nodes,
                                                               requests) -> None:
    free = sorted(_free_slots(cluster))[:40]
    answers: list[int] = []
    doomed = nodes[2]

    def book(slot_id: int) -> None:
        try:
            answers.append(_book(doomed, _request(requests), slot_id))
        except Exception:  # the node died under this request
            answers.append(0)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(book, slot_id) for slot_id in free]
        time.sleep(0.3)
        doomed.kill()
        for future in futures:
            future.result()

    still_free = _free_slots(cluster)
    booked_here = [s for s in free if s not in still_free]
    assert answers.count(201) <= len(booked_here)
    assert 0 in answers or len(booked_here) == len(free)
    assert slot_invariant_breaches(cluster.engine) == 0
    request_id = _request(requests)
    for node in nodes[:2]:  # the survivors offer exactly what the database says is free
        wait_for(lambda node=node: node.offered(request_id, cluster.day)
                 == _free_slots(cluster))

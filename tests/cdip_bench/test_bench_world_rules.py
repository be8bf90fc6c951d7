"""The benchmark worlds' requests are appointable by the rules' verdict, not by a state
written over them: vetted, protocolled, with the facts their exam needs and a contact, so a
benchmark that cancels one sees the request the service would."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from booking_api.core.db import make_engine, transaction
from booking_api.requests.rules_check import requests_out_of_step
from booking_api.requests.services import explain_request
from cdip_bench.backfill_world import build_world as build_backfill_world
from cdip_bench.booking_data import build_world
from cdip_bench.messages_world import build_message_world


def test_a_bench_worlds_requests_are_appointable_by_the_rules(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    world = build_world(url, weeks=1, simple=5, varied=60, seed=3, session_share=0.1)
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            verdicts = {explain_request(session, request_id).outcome
                        for request_id in (*world.simple_requests, *world.varied_requests)}
            out_of_step = requests_out_of_step(session)
    finally:
        engine.dispose()
        world.engine.dispose()

    assert verdicts == {"appointable"}
    assert out_of_step == []


def _out_of_step(url: str, today: date | None = None) -> list:
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            return requests_out_of_step(session, today)
    finally:
        engine.dispose()


def test_the_backfill_worlds_waiting_list_is_appointable_by_the_rules(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'backfill.sqlite3'}"
    world = build_backfill_world(url, sites="UHB-KNC", days=2, utilisation=0.5,
                                 waiting_share=0.3, short_notice_share=0.2, seed=5)

    assert _out_of_step(url, world.window_start.date()) == []  # the simulated month's day


@pytest.mark.postgres
def test_the_message_worlds_requests_are_appointable_by_the_rules(
        postgres_database_url: str) -> None:
    world = build_message_world(postgres_database_url, patients=20)
    world.db.dispose()

    assert _out_of_step(postgres_database_url) == []

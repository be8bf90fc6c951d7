"""The benchmark worlds' requests are appointable by the rules' verdict, not by a state
written over them: vetted, protocolled, with the facts their exam needs and a contact, so a
benchmark that cancels one sees the request the service would."""

from __future__ import annotations

from pathlib import Path

from booking_api.core.db import make_engine, transaction
from booking_api.requests.rules_check import requests_out_of_step
from booking_api.requests.services import explain_request
from cdip_bench.booking_data import build_world


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

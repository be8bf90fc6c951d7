"""Issue 17, item 3: stored request states always equal the rules' verdict. The demo seed
places its requests through the rules, and `cdip rules sweep --check` finds any request that
was written past them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from booking_api.core.config import get_settings
from booking_api.core.db import transaction
from booking_api.demo.seed import seed_demo
from booking_api.requests.models import Request
from booking_api.requests.rules_check import requests_out_of_step
from booking_api.requests.services import today_in_london
from cdip_cli.main import app
from domain.lifecycle import RequestState

runner = CliRunner()


def _states(engine: Engine) -> dict[int, RequestState]:
    with transaction(engine) as session:
        return dict(session.execute(select(Request.id, Request.state)).all())


def test_every_seeded_request_is_in_the_state_the_rules_give_it(engine: Engine) -> None:
    today = today_in_london()
    seed_demo(engine, today, patients=50)

    with transaction(engine) as session:
        assert requests_out_of_step(session, today) == []
    states = set(_states(engine).values())
    assert RequestState.WAITING in states  # MRI safety questionnaires still to come
    assert RequestState.APPOINTABLE in states


def test_an_mri_request_waits_for_its_safety_questionnaire_after_seeding(
        engine: Engine) -> None:
    seed_demo(engine, today_in_london(), patients=50)
    with transaction(engine) as session:
        mri = session.scalars(select(Request).where(Request.exam_code.like("M%"))).all()
        assert mri and {r.state for r in mri} <= {RequestState.WAITING,
                                                  RequestState.JUSTIFIED}


@pytest.fixture
def cli_database(migrated_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CDIP_DATABASE_URL", migrated_url)
    get_settings.cache_clear()
    yield migrated_url
    get_settings.cache_clear()


def test_sweep_check_passes_on_the_seeded_world(engine: Engine, cli_database: str) -> None:
    seed_demo(engine, today_in_london(), patients=20)
    result = runner.invoke(app, ["rules", "sweep", "--check"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["out_of_step"] == 0


def test_sweep_check_names_a_request_stored_appointable_past_the_rules_and_changes_nothing(
        engine: Engine, cli_database: str) -> None:
    seed_demo(engine, today_in_london(), patients=20)
    waiting = next(i for i, s in _states(engine).items() if s is RequestState.WAITING)
    with transaction(engine) as session:
        session.execute(update(Request).where(Request.id == waiting)
                        .values(state=RequestState.APPOINTABLE))
    before = _states(engine)

    result = runner.invoke(app, ["rules", "sweep", "--check"])

    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["requests"][0]["request_id"] == waiting
    assert report["requests"][0]["rules_say"] == "waiting"
    assert _states(engine) == before

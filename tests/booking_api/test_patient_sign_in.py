"""Patient sign-in by booking reference and date of birth: any typing of the reference, one
generic failure doing the same work for an unknown reference and a wrong date, audit without
personal data, and rate limits per reference and per client held in the database."""

from __future__ import annotations

import json
import logging
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from booking_api.access import services
from booking_api.access.models import SignInAttempt
from booking_api.core.db import transaction
from booking_api.core.logging import JsonFormatter
from tests.booking_api.access_support import (
    BORN,
    REFERENCE,
    UNKNOWN_REFERENCE,
    MovableClock,
    admin,
    audit_events,
    bearer,
    clerk,
    client,
    clock,
    engine,
    make_app,
    migrated_url,
    patient_sign_in,
    shared_database,
)

__all__ = ["admin", "clerk", "client", "clock", "engine", "migrated_url",
           "shared_database"]  # fixtures


# --- patient sign-in -------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["JK3D-PNJE-NC", "jk3d pnje nc", " JK3DPNJENC "])
def test_patient_signs_in_with_reference_in_any_case_spacing_or_dashes(
        client: TestClient, one_slot: dict[str, int], typed: str) -> None:
    patient = bearer(patient_sign_in(client, reference=typed))

    me = client.get("/api/auth/me", headers=patient).json()

    assert me["kind"] == "patient" and me["patient_id"] == one_slot["patient"]
    assert me["request_ids"] == sorted([one_slot["request_a"], one_slot["request_b"]])


def test_unknown_reference_and_wrong_date_get_the_identical_answer(
        client: TestClient, one_slot: dict[str, int]) -> None:
    unknown = patient_sign_in(client, reference=UNKNOWN_REFERENCE)
    wrong_date = patient_sign_in(client, born="1960-05-18")

    assert unknown.status_code == wrong_date.status_code == 401
    assert unknown.content == wrong_date.content
    assert unknown.json()["detail"] == services.PATIENT_SIGN_IN_FAILED


def test_unknown_reference_and_wrong_date_do_the_same_comparison(
        client: TestClient, one_slot: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[bool] = []
    real = services.dates_of_birth_match

    def spy(secret: str, expected: object, given: object) -> bool:
        compared.append(expected is None)
        return real(secret, expected, given)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "dates_of_birth_match", spy)

    patient_sign_in(client, reference=UNKNOWN_REFERENCE)
    patient_sign_in(client, born="1960-05-18")

    assert compared == [True, False]


def test_failed_patient_sign_ins_are_audited_without_the_date_of_birth(
        engine: Engine, client: TestClient, one_slot: dict[str, int],
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        patient_sign_in(client, born="1960-05-18")
        patient_sign_in(client, reference=UNKNOWN_REFERENCE)
        patient_sign_in(client)

    failed = audit_events(engine, "sign_in_failed")
    assert [e.entity_id for e in failed] == [str(one_slot["patient"]), "unknown"]
    assert audit_events(engine, "sign_in")[-1].actor == f"patient:{one_slot['patient']}"
    stored = json.dumps([[e.actor, e.before, e.after, e.reason] for e in failed])
    logged = "".join(JsonFormatter().format(record) for record in caplog.records)
    for secret in ("1960", "JK3D", "2345-7234"):
        assert secret not in stored and secret not in logged


def test_sign_in_attempts_store_digests_not_references_or_addresses(
        engine: Engine, client: TestClient, one_slot: dict[str, int]) -> None:
    patient_sign_in(client, born="1960-05-18")

    with transaction(engine) as session:
        attempt = session.scalar(select(SignInAttempt))
    assert len(attempt.subject_digest) == 64 and "JK3D" not in attempt.subject_digest
    assert "192.0.2" not in attempt.client_digest and attempt.succeeded is False


# --- rate limits -----------------------------------------------------------------------------

def test_failures_from_many_clients_slow_a_reference_but_never_lock_its_holder_out(
        client: TestClient, one_slot: dict[str, int], clock: MovableClock) -> None:
    for attempt in range(10):
        assert patient_sign_in(client, born="1999-01-01",
                                address=f"198.51.100.{attempt}").status_code == 401

    slowed = patient_sign_in(client, address="203.0.113.99")

    assert slowed.status_code == 429
    assert int(slowed.headers["retry-after"]) == 1 and "second" in slowed.json()["detail"]
    assert patient_sign_in(client, reference=UNKNOWN_REFERENCE).status_code == 401
    for attempt in range(10, 40):  # a stranger keeps guessing as fast as allowed
        clock.advance(timedelta(seconds=60))
        assert patient_sign_in(client, born="1999-01-01",
                                address=f"198.51.100.{attempt}").status_code == 401
    clock.advance(timedelta(seconds=60))
    assert patient_sign_in(client, address="203.0.113.99").status_code == 200


def test_one_client_guessing_at_one_reference_waits_ever_longer(
        client: TestClient, one_slot: dict[str, int], clock: MovableClock) -> None:
    for _ in range(3):
        assert patient_sign_in(client, born="1999-01-01").status_code == 401
    waits = []
    for _ in range(4):
        refused = patient_sign_in(client, born="1999-01-01")
        assert refused.status_code == 429
        waits.append(int(refused.headers["retry-after"]))
        clock.advance(timedelta(seconds=waits[-1]))
        assert patient_sign_in(client, born="1999-01-01").status_code == 401

    assert waits == [2, 4, 8, 16]
    assert patient_sign_in(client, address="203.0.113.99").status_code == 200


def test_a_burst_of_parallel_guesses_gets_exactly_ten_through(
        client: TestClient, one_slot: dict[str, int]) -> None:
    barrier = threading.Barrier(12)
    statuses: list[int] = []

    def guess(day: int) -> None:
        barrier.wait()
        statuses.append(patient_sign_in(client, born=f"1960-05-{day:02d}",
                                         address=f"198.51.100.{day}").status_code)

    threads = [threading.Thread(target=guess, args=(day,)) for day in range(1, 13)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [401] * 10 + [429] * 2


def test_twentieth_failure_from_one_client_locks_that_client_only(
        client: TestClient, one_slot: dict[str, int], clock: MovableClock) -> None:
    references = _well_formed_references(20)
    for reference in references:
        assert patient_sign_in(client, reference=reference).status_code == 401

    limited = patient_sign_in(client)

    assert limited.status_code == 429
    assert patient_sign_in(client, address="198.51.100.7").status_code == 200
    clock.advance(timedelta(minutes=15, seconds=1))
    assert patient_sign_in(client).status_code == 200


def test_rate_limit_holds_across_app_instances(
        migrated_url: str, one_slot: dict[str, int], clock: MovableClock) -> None:
    with TestClient(make_app(migrated_url, clock)) as first:
        for attempt in range(10):
            patient_sign_in(first, born="1999-01-01", address=f"198.51.100.{attempt}")
    with TestClient(make_app(migrated_url, clock)) as restarted:
        assert patient_sign_in(restarted).status_code == 429


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field"), [
    ({"date_of_birth": BORN}, "booking_reference"),
    ({"booking_reference": REFERENCE}, "date_of_birth"),
    ({"booking_reference": REFERENCE, "date_of_birth": "17/05/1960"}, "date_of_birth"),
    ({"booking_reference": REFERENCE, "date_of_birth": "1960-02-30"}, "date_of_birth"),
    ({"booking_reference": 12345, "date_of_birth": BORN}, "booking_reference"),
    ({"booking_reference": "JK3D-PNJE", "date_of_birth": BORN}, "booking_reference"),
    ({"booking_reference": "JK3D-PNJE-NO", "date_of_birth": BORN}, "booking_reference"),
    ({"booking_reference": REFERENCE, "date_of_birth": BORN, "nhs": "1"}, "nhs"),
    ({"booking_reference": "JK3D\x00PNJE-NC", "date_of_birth": BORN}, "booking_reference"),
])
def test_bad_patient_sign_in_names_the_field(client: TestClient, body: dict[str, object],
                                             field: str) -> None:
    response = client.post("/api/auth/patient/sign-in", json=body)

    assert response.status_code == 422
    assert field in {str(part) for error in response.json()["detail"] for part in error["loc"]}


def _well_formed_references(count: int) -> list[str]:
    import random

    from booking_api.requests.booking_reference import new_booking_reference

    rng = random.Random(7)
    return [new_booking_reference(rng) for _ in range(count)]

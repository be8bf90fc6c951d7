"""Lockout is no weapon (OWASP ASVS 2.2.1): failures slow a subject down instead of locking
it; the failure that starts an account's delays is audited once, naming the account; an
admin clears a subject's delays (audited); a success clears them too."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_api.access.models import AccountRole
from tests.booking_api.access_support import (
    PASSWORD,
    REFERENCE,
    MovableClock,
    add_staff,
    admin,
    audit_events,
    client,
    clock,
    engine,
    migrated_url,
    patient_sign_in,
    shared_database,
)

__all__ = ["admin", "client", "clock", "engine", "migrated_url", "shared_database"]


def stranger_guesses(client: TestClient, count: int, start: int = 0) -> list[int]:
    """Wrong dates of birth for the test patient, one from each of `count` addresses."""
    return [patient_sign_in(client, born="1999-01-01",
                            address=f"198.51.100.{start + n}").status_code
            for n in range(count)]


def staff_guesses(client: TestClient, username: str, count: int) -> list[int]:
    return [TestClient(client.app, client=(f"198.51.100.{n}", 4000)).post(
        "/api/auth/staff/sign-in",
        json={"username": username, "password": "a wrong guess"}).status_code
        for n in range(count)]


def test_the_failure_that_starts_a_patients_delays_is_audited_once(
        engine: Engine, client: TestClient, one_slot: dict[str, int],
        clock: MovableClock) -> None:
    assert stranger_guesses(client, 10) == [401] * 10
    clock.advance(timedelta(seconds=2))
    assert stranger_guesses(client, 1, start=10) == [401]

    (throttled,) = audit_events(engine, "sign_in_throttled")
    assert (throttled.entity, throttled.entity_id) == ("patient", str(one_slot["patient"]))
    assert throttled.after == {"failures": 10}


def test_the_failure_that_starts_a_staff_accounts_delays_is_audited(
        engine: Engine, client: TestClient) -> None:
    staff_id = add_staff(engine, "hana.clerk", AccountRole.CLERK)

    assert staff_guesses(client, "hana.clerk", 11) == [401] * 10 + [429]

    (throttled,) = audit_events(engine, "sign_in_throttled")
    assert (throttled.entity, throttled.entity_id) == ("staff_user", str(staff_id))


def test_an_admin_clears_a_references_delays(
        engine: Engine, client: TestClient, admin: dict[str, str],
        one_slot: dict[str, int]) -> None:
    stranger_guesses(client, 12)
    assert patient_sign_in(client).status_code == 429

    cleared = client.post("/api/admin/sign-in-unlock", headers={
        **admin, "Idempotency-Key": "unlock-1"}, json={"booking_reference": REFERENCE})

    assert cleared.status_code == 204
    assert patient_sign_in(client).status_code == 200
    (unlocked,) = audit_events(engine, "sign_in_unlocked")
    assert (unlocked.entity, unlocked.entity_id) == ("patient", str(one_slot["patient"]))
    assert unlocked.actor == "admin:ada.admin"


def test_an_admin_clears_a_staff_accounts_delays(
        engine: Engine, client: TestClient, admin: dict[str, str]) -> None:
    add_staff(engine, "hana.clerk", AccountRole.CLERK)
    staff_guesses(client, "hana.clerk", 12)

    cleared = client.post("/api/admin/sign-in-unlock", headers={
        **admin, "Idempotency-Key": "unlock-2"}, json={"username": "hana.clerk"})

    assert cleared.status_code == 204
    assert client.post("/api/auth/staff/sign-in", json={
        "username": "hana.clerk", "password": PASSWORD}).status_code == 200


def test_unlocking_names_what_is_wrong(client: TestClient, admin: dict[str, str]) -> None:
    cases = [({"username": "nobody.here"}, 404, None),
             ({}, 422, "username"),
             ({"username": "a", "booking_reference": REFERENCE}, 422, "username"),
             ({"booking_reference": "ABC"}, 422, "booking_reference")]
    for number, (body, status, field) in enumerate(cases):
        answer = client.post("/api/admin/sign-in-unlock", json=body,
                             headers={**admin, "Idempotency-Key": f"bad-unlock-{number}"})
        assert answer.status_code == status, body
        if field:
            assert answer.json()["detail"][0]["loc"][-1] == field


def test_only_admins_unlock(engine: Engine, client: TestClient) -> None:
    add_staff(engine, "carl.clerk", AccountRole.CLERK)
    from tests.booking_api.access_support import staff_headers

    answer = client.post("/api/admin/sign-in-unlock", json={"username": "carl.clerk"},
                         headers={**staff_headers(client, "carl.clerk"),
                                  "Idempotency-Key": "clerk-unlock"})

    assert answer.status_code == 403


def test_a_success_clears_the_delays_of_the_holders_reference(
        client: TestClient, one_slot: dict[str, int], clock: MovableClock) -> None:
    stranger_guesses(client, 10)
    clock.advance(timedelta(seconds=1))
    assert patient_sign_in(client).status_code == 200

    assert stranger_guesses(client, 3, start=20) == [401] * 3  # counting starts again

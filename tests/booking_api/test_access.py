"""Access: staff accounts with argon2 hashes and roles, patient sign-in by booking reference
and date of birth with one generic failure and database-held rate limits, signed expiring
tokens that do not cross between staff and patients, and audited sign-ins."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from booking_api.access import services
from booking_api.access.demo_staff import NotDemoMode, ensure_demo_staff
from booking_api.access.models import AccountRole, SignInAttempt, StaffUser
from booking_api.audit.models import AuditEvent
from booking_api.core.config import Environment, Settings, get_settings
from booking_api.core.db import transaction
from booking_api.core.logging import JsonFormatter
from cdip_cli import staff_commands
from cdip_cli.staff_commands import seed_demo_staff
from tests.booking_api.access_support import (
    CHEAP_HASHER,
    PASSWORD,
    MovableClock,
    SharedDatabase,
    add_staff,
    make_app,
    migrated_database,
    staff_headers,
)

REFERENCE = "JK3D-PNJE-NC"  # the tiny network's patient, born 17 May 1960
BORN = "1960-05-17"
UNKNOWN_REFERENCE = "2345-7234-5X"  # well formed (check character right), nobody has it


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[SharedDatabase]:
    """One migrated database of each kind for this module (see access_support)."""
    base = (request.getfixturevalue("postgres_database_url")
            if request.param == "postgresql" else None)
    with migrated_database(request.param, tmp_path_factory.mktemp("db"), base) as database:
        yield database


@pytest.fixture
def migrated_url(shared_database: SharedDatabase) -> str:
    """Overrides the per-test migration of tests/conftest.py: the module's database, empty."""
    return shared_database.emptied().url


@pytest.fixture
def engine(shared_database: SharedDatabase, migrated_url: str) -> Engine:
    return shared_database.engine


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def client(migrated_url: str, clock: MovableClock) -> Iterator[TestClient]:
    with TestClient(make_app(migrated_url, clock)) as client:
        yield client


@pytest.fixture
def admin(engine: Engine, client: TestClient) -> dict[str, str]:
    add_staff(engine, "ada.admin", AccountRole.ADMIN)
    return staff_headers(client, "ada.admin")


@pytest.fixture
def clerk(engine: Engine, client: TestClient) -> dict[str, str]:
    add_staff(engine, "carl.clerk", AccountRole.CLERK)
    return staff_headers(client, "carl.clerk")


def _patient_sign_in(client: TestClient, reference: str = REFERENCE, born: str = BORN,
                     address: str = "192.0.2.10") -> Response:
    body = {"booking_reference": reference, "date_of_birth": born}
    return TestClient(client.app, client=(address, 4000)).post("/api/auth/patient/sign-in",
                                                               json=body)


def _bearer(response: Response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _audit(engine: Engine, action: str) -> list[AuditEvent]:
    with transaction(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))


# --- staff accounts and passwords -----------------------------------------------------------

def test_staff_password_is_stored_only_as_an_argon2id_hash(engine: Engine) -> None:
    add_staff(engine, "hana.clerk", AccountRole.CLERK)

    with transaction(engine) as session:
        stored = session.scalar(select(StaffUser.password_hash))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_default_policy_hashes_with_argon2ids_recommended_cost() -> None:
    hasher = services.AccessPolicy().password_hasher

    assert hasher.time_cost >= 2 and hasher.memory_cost >= 19 * 1024


def test_correct_password_signs_in_with_an_eight_hour_staff_token(
        engine: Engine, client: TestClient, clock: MovableClock) -> None:
    add_staff(engine, "hana.clerk", AccountRole.CLERK)

    response = client.post("/api/auth/staff/sign-in",
                           json={"username": " Hana.Clerk ", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "staff" and body["role"] == "clerk"
    assert body["expires_at"].startswith((clock.now + timedelta(hours=8)).strftime("%Y-%m-%dT%H"))
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["actor"] == "clerk:hana.clerk"


@pytest.mark.parametrize(("username", "password"), [
    ("hana.clerk", "not the password at all"),
    ("nobody.here", PASSWORD),
])
def test_wrong_password_and_unknown_username_fail_alike(
        engine: Engine, client: TestClient, username: str, password: str) -> None:
    add_staff(engine, "hana.clerk", AccountRole.CLERK)

    response = client.post("/api/auth/staff/sign-in",
                           json={"username": username, "password": password})

    assert response.status_code == 401
    assert response.json() == {"detail": services.STAFF_SIGN_IN_FAILED}
    assert response.headers["www-authenticate"] == "Bearer"


def test_deactivated_account_cannot_sign_in_and_its_tokens_die(
        engine: Engine, client: TestClient, admin: dict[str, str]) -> None:
    add_staff(engine, "hana.clerk", AccountRole.CLERK)
    hana = staff_headers(client, "hana.clerk")

    changed = client.patch("/api/admin/staff/hana.clerk", json={"active": False},
                           headers=admin)

    assert changed.status_code == 200 and changed.json()["active"] is False
    assert client.get("/api/auth/me", headers=hana).status_code == 401
    assert client.post("/api/auth/staff/sign-in", json={
        "username": "hana.clerk", "password": PASSWORD}).status_code == 401


@pytest.mark.parametrize(("password", "named"), [
    ("short1!", "at least 12"),
    ("aaaaaaaaaaaaaaaa", "4 different"),
    ("my-name-is-new.starter", "username"),
])
def test_weak_password_is_refused_naming_the_password_field(
        client: TestClient, admin: dict[str, str], password: str, named: str) -> None:
    response = client.post("/api/admin/staff", headers={**admin, "Idempotency-Key": "k1"},
                           json={"username": "new.starter", "display_name": "New Starter",
                                 "role": "clerk", "password": password})

    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "password"] and named in error["msg"]


# --- tokens ----------------------------------------------------------------------------------

def test_staff_token_expires_after_eight_hours(client: TestClient, clerk: dict[str, str],
                                               clock: MovableClock) -> None:
    clock.advance(timedelta(hours=7, minutes=59))
    assert client.get("/api/auth/me", headers=clerk).status_code == 200

    clock.advance(timedelta(minutes=1))
    expired = client.get("/api/auth/me", headers=clerk)

    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


def test_patient_token_expires_after_thirty_minutes(
        client: TestClient, one_slot: dict[str, int], clock: MovableClock) -> None:
    patient = _bearer(_patient_sign_in(client))

    clock.advance(timedelta(minutes=30))

    assert client.get("/api/auth/me", headers=patient).status_code == 401


@pytest.mark.parametrize("header", [
    "Bearer not-a-token",
    "Bearer eyJzdWIiOjF9.forged",
    "Basic YWRtaW46YWRtaW4=",
])
def test_missing_damaged_or_foreign_credentials_get_401(
        client: TestClient, header: str) -> None:
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": header}).status_code == 401


def test_token_signed_with_another_secret_is_refused(
        migrated_url: str, engine: Engine, clock: MovableClock) -> None:
    add_staff(engine, "ada.admin", AccountRole.ADMIN)
    with TestClient(make_app(migrated_url, clock)) as ours:
        token = staff_headers(ours, "ada.admin")
    other = make_app(migrated_url, clock)
    other.state.settings = other.state.settings.model_copy(update={"secret_key": "x" * 40})

    with TestClient(other) as theirs:
        assert theirs.get("/api/auth/me", headers=token).status_code == 401


def test_patient_token_is_not_a_staff_token(client: TestClient, one_slot: dict[str, int]
                                            ) -> None:
    patient = _bearer(_patient_sign_in(client))

    response = client.get("/api/admin/staff", headers=patient)

    assert response.status_code == 401
    assert "staff" in response.json()["detail"]


def test_staff_token_is_not_a_patient_token(client: TestClient, admin: dict[str, str]) -> None:
    from booking_api.access import tokens

    secret = client.app.state.settings.secret_key
    token = admin["Authorization"].removeprefix("Bearer ")

    with pytest.raises(tokens.InvalidToken, match="patient"):
        tokens.read_patient_token(secret, token, client.app.state.clock())


# --- roles -----------------------------------------------------------------------------------

def test_clerk_cannot_create_staff_or_read_the_audit_trail(
        client: TestClient, clerk: dict[str, str]) -> None:
    created = client.post("/api/admin/staff", headers={**clerk, "Idempotency-Key": "k1"},
                          json={"username": "mallory", "display_name": "Mallory",
                                "role": "admin", "password": "let me in please"})
    audit = client.get("/api/admin/audit", headers=clerk)

    assert created.status_code == 403 and audit.status_code == 403
    assert "admin" in created.json()["detail"] and "clerk" in created.json()["detail"]
    assert "mallory" not in client.get("/api/admin/staff", headers=clerk).text


def test_admin_creates_staff_and_the_creation_is_audited(
        engine: Engine, client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/api/admin/staff", headers={**admin, "Idempotency-Key": "new-1"},
                           json={"username": "vera.vetting", "display_name": "Dr Vera",
                                 "role": "vetting", "password": "justify every scan"})

    assert response.status_code == 201
    assert response.json()["role"] == "vetting" and "password" not in response.text
    created = _audit(engine, "create")[-1]
    assert created.actor == "admin:ada.admin" and created.entity == "staff_user"
    assert created.after == {"username": "vera.vetting", "display_name": "Dr Vera",
                             "role": "vetting", "active": True}


def test_role_change_is_audited_and_signs_the_account_out(
        engine: Engine, client: TestClient, admin: dict[str, str],
        clerk: dict[str, str]) -> None:
    response = client.patch("/api/admin/staff/carl.clerk", json={"role": "manager"},
                            headers=admin)

    assert response.status_code == 200
    assert client.get("/api/auth/me", headers=clerk).status_code == 401
    change = _audit(engine, "update")[-1]
    assert (change.before["role"], change.after["role"]) == ("clerk", "manager")


def test_admin_cannot_remove_their_own_admin_role(client: TestClient,
                                                  admin: dict[str, str]) -> None:
    response = client.patch("/api/admin/staff/ada.admin", json={"role": "clerk"},
                            headers=admin)

    assert response.status_code == 409
    assert "another admin" in response.json()["detail"]


def test_admin_reads_the_audit_trail_newest_first(client: TestClient,
                                                  admin: dict[str, str]) -> None:
    events = client.get("/api/admin/audit", params={"entity": "staff_user"},
                        headers=admin).json()

    assert [e["action"] for e in events][:2] == ["sign_in", "create"]
    assert events[0]["id"] > events[1]["id"]


# --- patient sign-in -------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["JK3D-PNJE-NC", "jk3d pnje nc", " JK3DPNJENC "])
def test_patient_signs_in_with_reference_in_any_case_spacing_or_dashes(
        client: TestClient, one_slot: dict[str, int], typed: str) -> None:
    patient = _bearer(_patient_sign_in(client, reference=typed))

    me = client.get("/api/auth/me", headers=patient).json()

    assert me["kind"] == "patient" and me["patient_id"] == one_slot["patient"]
    assert me["request_ids"] == sorted([one_slot["request_a"], one_slot["request_b"]])


def test_unknown_reference_and_wrong_date_get_the_identical_answer(
        client: TestClient, one_slot: dict[str, int]) -> None:
    unknown = _patient_sign_in(client, reference=UNKNOWN_REFERENCE)
    wrong_date = _patient_sign_in(client, born="1960-05-18")

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

    _patient_sign_in(client, reference=UNKNOWN_REFERENCE)
    _patient_sign_in(client, born="1960-05-18")

    assert compared == [True, False]


def test_failed_patient_sign_ins_are_audited_without_the_date_of_birth(
        engine: Engine, client: TestClient, one_slot: dict[str, int],
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        _patient_sign_in(client, born="1960-05-18")
        _patient_sign_in(client, reference=UNKNOWN_REFERENCE)
        _patient_sign_in(client)

    failed = _audit(engine, "sign_in_failed")
    assert [e.entity_id for e in failed] == [str(one_slot["patient"]), "unknown"]
    assert _audit(engine, "sign_in")[-1].actor == f"patient:{one_slot['patient']}"
    stored = json.dumps([[e.actor, e.before, e.after, e.reason] for e in failed])
    logged = "".join(JsonFormatter().format(record) for record in caplog.records)
    for secret in ("1960", "JK3D", "2345-7234"):
        assert secret not in stored and secret not in logged


def test_sign_in_attempts_store_digests_not_references_or_addresses(
        engine: Engine, client: TestClient, one_slot: dict[str, int]) -> None:
    _patient_sign_in(client, born="1960-05-18")

    with transaction(engine) as session:
        attempt = session.scalar(select(SignInAttempt))
    assert len(attempt.subject_digest) == 64 and "JK3D" not in attempt.subject_digest
    assert "192.0.2" not in attempt.client_digest and attempt.succeeded is False


# --- rate limits -----------------------------------------------------------------------------

def test_fifth_failure_on_a_reference_locks_it_from_any_client_until_the_window_passes(
        client: TestClient, one_slot: dict[str, int], clock: MovableClock) -> None:
    for attempt in range(5):
        assert _patient_sign_in(client, born="1999-01-01",
                                address=f"198.51.100.{attempt}").status_code == 401

    limited = _patient_sign_in(client, address="203.0.113.99")

    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 15 * 60
    assert "minutes" in limited.json()["detail"]
    assert _patient_sign_in(client, reference=UNKNOWN_REFERENCE).status_code == 401
    clock.advance(timedelta(minutes=15))
    assert _patient_sign_in(client).status_code == 200


def test_a_burst_of_parallel_guesses_gets_exactly_five_through(
        client: TestClient, one_slot: dict[str, int]) -> None:
    barrier = threading.Barrier(12)
    statuses: list[int] = []

    def guess(day: int) -> None:
        barrier.wait()
        statuses.append(_patient_sign_in(client, born=f"1960-05-{day:02d}",
                                         address=f"198.51.100.{day}").status_code)

    threads = [threading.Thread(target=guess, args=(day,)) for day in range(1, 13)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [401] * 5 + [429] * 7


def test_twentieth_failure_from_one_client_locks_that_client_only(
        client: TestClient, one_slot: dict[str, int], clock: MovableClock) -> None:
    references = _well_formed_references(20)
    for reference in references:
        assert _patient_sign_in(client, reference=reference).status_code == 401

    limited = _patient_sign_in(client)

    assert limited.status_code == 429
    assert _patient_sign_in(client, address="198.51.100.7").status_code == 200
    clock.advance(timedelta(minutes=15, seconds=1))
    assert _patient_sign_in(client).status_code == 200


def test_rate_limit_holds_across_app_instances(
        migrated_url: str, one_slot: dict[str, int], clock: MovableClock) -> None:
    with TestClient(make_app(migrated_url, clock)) as first:
        for _ in range(5):
            _patient_sign_in(first, born="1999-01-01")
    with TestClient(make_app(migrated_url, clock)) as restarted:
        assert _patient_sign_in(restarted).status_code == 429


def test_staff_sign_in_is_rate_limited_per_username(
        engine: Engine, client: TestClient, clock: MovableClock) -> None:
    add_staff(engine, "hana.clerk", AccountRole.CLERK)
    for _ in range(5):
        client.post("/api/auth/staff/sign-in",
                    json={"username": "hana.clerk", "password": "guess guess guess"})

    limited = client.post("/api/auth/staff/sign-in",
                          json={"username": "hana.clerk", "password": PASSWORD})

    assert limited.status_code == 429 and "retry-after" in limited.headers


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


@pytest.mark.parametrize(("body", "field"), [
    ({"password": PASSWORD}, "username"),
    ({"username": "hana"}, "password"),
    ({"username": ["hana"], "password": PASSWORD}, "username"),
    ({"username": "hana", "password": 42}, "password"),
    ({"username": "ha\x00na", "password": PASSWORD}, "username"),
])
def test_bad_staff_sign_in_names_the_field(client: TestClient, body: dict[str, object],
                                           field: str) -> None:
    response = client.post("/api/auth/staff/sign-in", json=body)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


@pytest.mark.parametrize(("change", "field"), [
    ({"username": "Bad Name"}, "username"),
    ({"role": "superuser"}, "role"),
    ({"display_name": ""}, "display_name"),
    ({"display_name": "Nina\x00"}, "display_name"),
    ({"password": None}, "password"),
])
def test_bad_staff_account_names_the_field(client: TestClient, admin: dict[str, str],
                                           change: dict[str, object], field: str) -> None:
    body = {"username": "new.starter", "display_name": "New Starter", "role": "clerk",
            "password": "a long enough phrase"} | change

    response = client.post("/api/admin/staff", json=body,
                           headers={**admin, "Idempotency-Key": f"bad-{field}"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


def _well_formed_references(count: int) -> list[str]:
    import random

    from booking_api.requests.booking_reference import new_booking_reference

    rng = random.Random(7)
    return [new_booking_reference(rng) for _ in range(count)]


# --- command line and demo accounts ----------------------------------------------------------

@pytest.fixture
def cli_settings(monkeypatch: pytest.MonkeyPatch, migrated_url: str) -> Iterator[None]:
    monkeypatch.setenv("CDIP_DATABASE_URL", migrated_url)
    monkeypatch.setenv("CDIP_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cdip_staff_create_prompts_for_the_password_and_audits_the_account(
        cli_settings: None, engine: Engine) -> None:
    created = CliRunner().invoke(staff_commands.app, [
        "create", "ada.admin", "--role", "admin", "--display-name", "Ada Admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n")
    listed = CliRunner().invoke(staff_commands.app, ["list"])

    assert created.exit_code == 0, created.output
    assert PASSWORD not in created.output
    assert "ada.admin" in listed.output and "admin" in listed.output
    with transaction(engine) as session:
        stored = session.scalar(select(StaffUser.password_hash))
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "create"))
    assert stored.startswith("$argon2id$") and event.actor.startswith("cli:")


def test_cdip_staff_set_password_replaces_it_and_signs_the_account_out(
        cli_settings: None, engine: Engine, client: TestClient) -> None:
    add_staff(engine, "hana.clerk", AccountRole.CLERK)
    old_session = staff_headers(client, "hana.clerk")
    new_password = "a brand new passphrase"

    changed = CliRunner().invoke(staff_commands.app, ["set-password", "hana.clerk"],
                                 input=f"{new_password}\n{new_password}\n")

    assert changed.exit_code == 0, changed.output
    assert client.get("/api/auth/me", headers=old_session).status_code == 401
    assert client.post("/api/auth/staff/sign-in", json={
        "username": "hana.clerk", "password": PASSWORD}).status_code == 401
    assert staff_headers(client, "hana.clerk", new_password)
    assert _audit(engine, "set_password")[-1].actor.startswith("cli:")


@pytest.mark.parametrize(("arguments", "typed", "named"), [
    (["create", "ada.admin", "--role", "admin"], "short\nshort\n", "password"),
    (["create", "Ada Admin", "--role", "admin"], f"{PASSWORD}\n{PASSWORD}\n", "username"),
    (["create", "ada.admin", "--role", "owner"], "", "--role"),
    (["set-role", "nobody", "clerk"], "", "USERNAME"),
])
def test_cdip_staff_refuses_bad_input_naming_it(
        cli_settings: None, engine: Engine, arguments: list[str], typed: str,
        named: str) -> None:
    result = CliRunner().invoke(staff_commands.app, arguments, input=typed)

    assert result.exit_code == 2
    assert named in result.output
    with transaction(engine) as session:
        assert session.scalar(select(StaffUser.id)) is None


def test_demo_staff_are_made_once_one_per_role(engine: Engine) -> None:
    with transaction(engine) as session:
        first = ensure_demo_staff(session, Environment.DEMO, CHEAP_HASHER)
    with transaction(engine) as session:
        second = ensure_demo_staff(session, Environment.DEMO, CHEAP_HASHER)

    assert {account.role for account in first} == set(AccountRole)
    assert all(a.added for a in first) and not any(a.added for a in second)


@pytest.mark.parametrize("environment", [Environment.TEST, Environment.PRODUCTION])
def test_demo_staff_are_never_made_outside_demo_mode(engine: Engine,
                                                     environment: Environment) -> None:
    settings = Settings(database_url="sqlite://", environment=environment,
                        secret_key="k" * 48)

    seed_demo_staff(engine, settings)

    with pytest.raises(NotDemoMode), transaction(engine) as session:
        ensure_demo_staff(session, environment, CHEAP_HASHER)
    with transaction(engine) as session:
        assert session.scalar(select(StaffUser.id)) is None


# --- whatever arrives, no server error ---------------------------------------------------------

@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_no_access_operation_answers_a_server_error(
        client: TestClient, admin: dict[str, str], one_slot: dict[str, int]) -> None:
    import schemathesis

    patient = _bearer(_patient_sign_in(client))
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()
                  if result.ok().path.startswith(("/api/auth", "/api/admin"))]
    assert len(operations) >= 7

    for operation in operations:
        for caller, headers in (("admin", admin), ("patient", patient), ("anonymous", {})):
            _never_a_server_error(operation, caller, headers)


def _never_a_server_error(operation: object, caller: str, headers: dict[str, str]) -> None:
    from hypothesis import HealthCheck, given, settings

    @given(case=operation.as_strategy())  # type: ignore[attr-defined]
    @settings(max_examples=5, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: object) -> None:
        response = case.call(headers={**(case.headers or {}), **headers})  # type: ignore
        assert response.status_code < 500, (
            f"{operation.method.upper()} {operation.path} as {caller}: "  # type: ignore
            f"{response.status_code} {response.text[:300]}")

    check()

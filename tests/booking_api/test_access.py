"""Access for staff: accounts with argon2 hashes and roles, signed expiring tokens that do
not cross between staff and patients, role checks on the admin routes, audited account
changes and sign-ins, bad input named by field, and no server error whatever arrives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from booking_api.access import services
from booking_api.access.models import AccountRole, StaffUser
from booking_api.core.db import transaction
from tests.booking_api.access_support import (
    PASSWORD,
    MovableClock,
    add_staff,
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
    staff_headers,
)

__all__ = ["admin", "clerk", "client", "clock", "engine", "migrated_url",
           "shared_database"]  # fixtures


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
    patient = bearer(patient_sign_in(client))

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
    patient = bearer(patient_sign_in(client))

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
    created = audit_events(engine, "create")[-1]
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
    change = audit_events(engine, "update")[-1]
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


# --- whatever arrives, no server error ---------------------------------------------------------

@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_no_access_operation_answers_a_server_error(
        client: TestClient, admin: dict[str, str], one_slot: dict[str, int]) -> None:
    import schemathesis

    patient = bearer(patient_sign_in(client))
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


def test_a_refused_account_change_answers_and_leaves_the_database_free(
        client: TestClient, admin: dict[str, str]) -> None:
    body = {"username": "new.starter", "display_name": "New Starter", "role": "clerk",
            "password": "a long enough phrase"}
    client.post("/api/admin/staff", json=body, headers={**admin, "Idempotency-Key": "one"})

    again = client.post("/api/admin/staff", json=body,
                        headers={**admin, "Idempotency-Key": "two"})
    missing = client.patch("/api/admin/staff/no.such.person", json={"display_name": "X"},
                           headers={**admin, "Idempotency-Key": "three"})

    assert again.status_code == 409
    assert missing.status_code == 404

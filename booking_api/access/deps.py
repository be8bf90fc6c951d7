"""Typed dependencies that routes use to demand a signed-in caller.

    CurrentStaff      any active staff account            (401 without a valid staff token)
    ClerkOrAbove      clerk, manager or admin             (403 for other roles)
    VettingStaff      vetting (radiologists/radiographers who justify requests)
    ManagerOrAdmin    manager or admin
    AdminOnly         admin
    CurrentPatient    a signed-in patient: their id and the request ids they may see
    SignedIn          either of the above (a StaffPrincipal or a PatientPrincipal)
    require_roles(*roles)  build another role check

Tokens arrive as `Authorization: Bearer <token>`. Principals are loaded on every request
(a revoked token is refused at once) by one statement on a short read-only connection of
their own (the database's `lookup` engine: autocommit on PostgreSQL, no BEGIN/ROLLBACK), not
the route's session, so an authorisation check never starts (or, on SQLite, locks) the route's
transaction. The lookup runs in a worker thread; a caller already in one (IdempotentRoute,
which scopes its key to the caller) may `establish_principal` there, and the dependencies
then take that principal instead of a lookup and a thread hop of their own. The clock and
the access policy are read from `app.state.clock` / `app.state.access_policy` when set
(tests set them), else the real clock and the defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from booking_api.access import tokens
from booking_api.access.models import AccountRole, SignInKind
from booking_api.access.policy import DEFAULT_POLICY, AccessPolicy
from booking_api.access.principals import PatientPrincipal, StaffPrincipal
from booking_api.access.services import patient_principal, staff_principal
from booking_api.api.deps import clock_of
from booking_api.audit.reads import Reader
from booking_api.audit.services import Actor
from booking_api.core.app_state import database_of
from booking_api.idempotency.route import idempotent_route

Principal = StaffPrincipal | PatientPrincipal
P = TypeVar("P")
_ESTABLISHED = "cdip_principal"


def policy_of(request: Request) -> AccessPolicy:
    return getattr(request.app.state, "access_policy", DEFAULT_POLICY)


def client_address(request: Request) -> str:
    """The peer address (uvicorn's --proxy-headers makes it the real client's behind a
    trusted proxy)."""
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


PolicyDep = Annotated[AccessPolicy, Depends(policy_of)]


async def current_staff(request: Request) -> StaffPrincipal:
    return await _signed_in(request, StaffPrincipal, staff_of)


def staff_of(request: Request) -> StaffPrincipal:
    """The signed-in staff member (blocking: one lookup); 401 for anyone else."""
    token = _required_token(request, "staff")
    try:
        claims = tokens.read_staff_token(_secret(request), token, clock_of(request)())
        return _load_staff(database_of(request.app).lookup, claims)
    except tokens.InvalidToken as error:
        raise _unauthorised(str(error)) from None


CurrentStaff = Annotated[StaffPrincipal, Depends(current_staff)]


def require_roles(*roles: AccountRole) -> Callable[[StaffPrincipal], StaffPrincipal]:
    """A dependency admitting staff holding one of `roles`; 403 naming them otherwise."""
    allowed = ", ".join(str(role) for role in roles)

    async def staff_with_role(staff: CurrentStaff) -> StaffPrincipal:  # no I/O: no thread
        if staff.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"This needs one of these roles: {allowed}. "
                                f"You are signed in as {staff.role}.")
        return staff

    staff_with_role.__name__ = f"require_{'_or_'.join(str(role) for role in roles)}"
    return staff_with_role


ClerkOrAbove = Annotated[StaffPrincipal, Depends(
    require_roles(AccountRole.CLERK, AccountRole.MANAGER, AccountRole.ADMIN))]
VettingStaff = Annotated[StaffPrincipal, Depends(require_roles(AccountRole.VETTING))]
ManagerOrAdmin = Annotated[StaffPrincipal, Depends(
    require_roles(AccountRole.MANAGER, AccountRole.ADMIN))]
AdminOnly = Annotated[StaffPrincipal, Depends(require_roles(AccountRole.ADMIN))]


async def current_patient(request: Request) -> PatientPrincipal:
    return await _signed_in(request, PatientPrincipal, patient_of)


def patient_of(request: Request) -> PatientPrincipal:
    """The signed-in patient (blocking: one lookup); 401 for anyone else."""
    token = _required_token(request, "patient")
    try:
        claims = tokens.read_patient_token(_secret(request), token, clock_of(request)())
    except tokens.InvalidToken as error:
        raise _unauthorised(str(error)) from None
    principal = patient_principal(database_of(request.app).lookup, claims)
    if principal is None:
        raise _unauthorised("this booking is no longer available: sign in again")
    return principal


CurrentPatient = Annotated[PatientPrincipal, Depends(current_patient)]


async def current_principal(request: Request) -> Principal:
    """Whoever is signed in, staff or patient."""
    return await _signed_in(request, (StaffPrincipal, PatientPrincipal), principal_of)


def principal_of(request: Request) -> Principal:
    """Whoever is signed in (blocking: one lookup); 401 if no one is."""
    token = _required_token(request, "staff or patient")
    if tokens.token_kind(_secret(request), token) is SignInKind.PATIENT:
        return patient_of(request)
    return staff_of(request)


SignedIn = Annotated[Principal, Depends(current_principal)]


def establish_principal(request: Request) -> Principal | None:
    """Whoever is signed in, or None; kept on the request for the access dependencies. Call it
    from a worker thread that does other blocking work for the request anyway."""
    try:
        principal = principal_of(request)
    except HTTPException:
        return None  # the route's own dependency looks again and refuses with its message
    setattr(request.state, _ESTABLISHED, principal)
    return principal


IdempotentRoute = idempotent_route(establish_principal)
"""The route class of every router whose POSTs change something: idempotent, keys scoped to
the signed-in caller (see `booking_api.idempotency.route`)."""


def reader_of(who: Principal, request: Request) -> Reader | None:
    """Who is reading patients' records through this route, for the access log
    (`audit.reads`); None for a patient, who sees only their own."""
    if isinstance(who, PatientPrincipal):
        return None
    return Reader(who.actor, route_of(request))


def route_of(request: Request) -> str:
    """The method and route template being served (`GET /api/appointments/{appointment_id}`):
    ids stay out of it, so it names the kind of read, not whom."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


def actor_and_patient(who: Principal) -> tuple[Actor, int | None]:
    """The actor, and the patient every lookup is limited to (None for staff)."""
    if isinstance(who, PatientPrincipal):
        return who.actor, who.patient_id
    return who.actor, None


async def _signed_in(request: Request, kind: type | tuple[type, ...],
                     load: Callable[[Request], P]) -> P:
    known = getattr(request.state, _ESTABLISHED, None)
    if isinstance(known, kind):
        return known
    return await run_in_threadpool(load, request)


def _secret(request: Request) -> str:
    """The signing key, read from the app directly: a settings dependency here would cost
    every signed-in route one more thread-pool hop."""
    return request.app.state.settings.secret_key


def _required_token(request: Request, who: str) -> str:
    token = bearer_token(request)
    if token is None:
        raise _unauthorised(f"Sign in first: this needs a {who} session token "
                            "(Authorization: Bearer <token>)")
    return token


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message,
                         headers={"WWW-Authenticate": "Bearer"})


def _load_staff(engine: Engine, claims: tokens.StaffClaims) -> StaffPrincipal:
    return staff_principal(engine, claims)

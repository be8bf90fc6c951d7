"""HTTP routes of access: sign-in and sign-out for staff and patients, a staff member's own
password and second factor (`/api/auth`), and the admin's staff accounts, sign-in unlocks
and audit trail (`/api/admin`, admins only, POSTs idempotent)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from booking_api.access import flows, services
from booking_api.access.audit_trail import MAX_PAGE, AuditEventPublic, read_audit_events
from booking_api.access.clients import client_address
from booking_api.access.deps import (
    AdminOnly,
    CurrentStaff,
    IdempotentRoute,
    PolicyDep,
    SignedIn,
    reader_of,
    room_to_check_a_password,
)
from booking_api.access.models import (
    PasswordChange,
    PatientSignIn,
    SecondFactorCode,
    SecondFactorEnrolment,
    SessionToken,
    SignInKind,
    SignInUnlock,
    StaffCreate,
    StaffPublic,
    StaffSignIn,
    StaffUpdate,
    WhoAmI,
)
from booking_api.access.passwords import HashingBusy, WeakPassword
from booking_api.access.policy import AccessPolicy
from booking_api.access.principals import StaffPrincipal
from booking_api.access.rate_limit import TooManyAttempts
from booking_api.api.deps import ReadSessionDep, SessionDep, SettingsDep, clock_of
from booking_api.audit.models import PatientRecordReadPublic
from booking_api.audit.reads import reads_of_patient, record_read
from booking_api.core.app_state import database_of
from booking_api.core.inputs import MAX_ID, PlainText

auth_router = APIRouter(prefix="/api/auth", tags=["sign-in"])
admin_router = APIRouter(prefix="/api/admin", tags=["admin"], route_class=IdempotentRoute)
patients_router = APIRouter(prefix="/api/patients", tags=["admin"])
logger = logging.getLogger(__name__)

FilterText = Annotated[PlainText | None, Query(max_length=100)]
_UNAUTHORISED = {401: {"description": "wrong credentials (one message for every cause)"},
                 429: {"description": "too many failed attempts; see Retry-After"},
                 503: {"description": "too many sign-ins at once; see Retry-After"}}


@auth_router.post("/staff/sign-in", response_model=SessionToken, responses=_UNAUTHORISED,
                  dependencies=[Depends(room_to_check_a_password)])
def staff_sign_in(credentials: StaffSignIn, request: Request, settings: SettingsDep,
                  policy: PolicyDep) -> SessionToken | JSONResponse:
    """Exchange a username and password (and the one-time code, once two-step sign-in is set
    up) for a staff session token (8 hours). `second_factor_required` in the answer: this
    role must set up two-step sign-in before anything else."""
    context = _context(request, settings.secret_key, policy)
    try:
        token = flows.sign_in_staff(database_of(request.app), context, credentials.username,
                                    credentials.password, credentials.one_time_code)
    except TooManyAttempts as limited:
        return _too_many(limited)
    except HashingBusy as busy:
        return _busy(busy)
    return _granted_or_refused(token, services.STAFF_SIGN_IN_FAILED, SignInKind.STAFF)


@auth_router.post("/patient/sign-in", response_model=SessionToken, responses=_UNAUTHORISED)
def patient_sign_in(credentials: PatientSignIn, request: Request, settings: SettingsDep,
                    policy: PolicyDep) -> SessionToken | JSONResponse:
    """Exchange a booking reference and date of birth for a patient session token
    (30 minutes) that can see only that patient's requests."""
    context = _context(request, settings.secret_key, policy)
    try:
        token = flows.sign_in_patient(database_of(request.app), context,
                                      credentials.booking_reference, credentials.date_of_birth)
    except services.BadBookingReference as bad:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [
            {"loc": ["body", "booking_reference"], "msg": str(bad),
             "type": "booking_reference"}]) from None
    except TooManyAttempts as limited:
        return _too_many(limited)
    return _granted_or_refused(token, services.PATIENT_SIGN_IN_FAILED, SignInKind.PATIENT)


@auth_router.get("/me", response_model=WhoAmI)
def who_am_i(principal: SignedIn) -> WhoAmI:
    """Who the presented token signs in as."""
    if isinstance(principal, StaffPrincipal):
        return WhoAmI(kind=SignInKind.STAFF, actor=principal.actor.name,
                      role=str(principal.role),
                      second_factor_required=principal.second_factor_missing)
    return WhoAmI(kind=SignInKind.PATIENT, actor=principal.actor.name, role="patient",
                  patient_id=principal.patient_id, request_ids=sorted(principal.request_ids))


@auth_router.post("/sign-out", status_code=204)
def sign_out(principal: SignedIn, session: SessionDep, request: Request) -> None:
    """End this sign-in: the token stops working at once, everywhere."""
    services.sign_out(session, principal.actor, principal.session_id, clock_of(request)())
    session.commit()


@auth_router.post("/sign-out-everywhere", status_code=204)
def sign_out_everywhere(principal: SignedIn, session: SessionDep, request: Request) -> None:
    """End every sign-in of the caller (staff: all their tokens; a patient: all theirs)."""
    staff_id = principal.staff_id if isinstance(principal, StaffPrincipal) else None
    patient_id = None if isinstance(principal, StaffPrincipal) else principal.patient_id
    services.sign_out_everywhere(session, principal.actor, clock_of(request)(),
                                 staff_id=staff_id, patient_id=patient_id)
    session.commit()


@auth_router.post("/staff/password", response_model=SessionToken,
                  responses={**_UNAUTHORISED, 403: {"description": "current password wrong"}},
                  dependencies=[Depends(room_to_check_a_password)])
def change_own_password(change: PasswordChange, staff: CurrentStaff, request: Request,
                        session: SessionDep, settings: SettingsDep, policy: PolicyDep
                        ) -> SessionToken | JSONResponse:
    """Change your own password (the current one is required): every other sign-in of
    yours ends, and this token is replaced by the one returned."""
    context = _context(request, settings.secret_key, policy)
    try:
        token = services.change_own_password(session, context, staff.staff_id,
                                             change.current_password, change.new_password)
        session.commit()
    except WeakPassword as weak:
        raise _field_error("new_password", str(weak)) from None
    except services.WrongPassword as wrong:
        session.commit()  # the failed attempt counts
        raise _field_error("current_password", str(wrong), status.HTTP_403_FORBIDDEN) \
            from None
    except TooManyAttempts as limited:
        return _too_many(limited)
    except HashingBusy as busy:
        return _busy(busy)
    return token


@auth_router.post("/staff/second-factor", response_model=SecondFactorEnrolment,
                  status_code=201)
def start_second_factor(staff: CurrentStaff, session: SessionDep) -> SecondFactorEnrolment:
    """Set up two-step sign-in: add the key (or its otpauth URI, as a QR code) to an
    authenticator app, then confirm a code it shows."""
    try:
        enrolment = services.start_second_factor(session, staff.staff_id)
    except services.SecondFactorAlreadySet as already:
        raise HTTPException(status.HTTP_409_CONFLICT, str(already)) from None
    session.commit()
    return enrolment


@auth_router.post("/staff/second-factor/confirm", status_code=204)
def confirm_second_factor(code: SecondFactorCode, staff: CurrentStaff, session: SessionDep,
                          request: Request) -> None:
    """Turn two-step sign-in on with a code from the app; from now on every sign-in needs
    a code, and this sign-in counts as made with one."""
    try:
        services.confirm_second_factor(session, staff.staff_id, staff.session_id,
                                       code.one_time_code, clock_of(request)())
    except services.WrongCode as wrong:
        raise _field_error("one_time_code", str(wrong)) from None
    except services.SecondFactorAlreadySet as already:
        raise HTTPException(status.HTTP_409_CONFLICT, str(already)) from None
    session.commit()


@admin_router.post("/staff", response_model=StaffPublic, status_code=201)
def create_staff_account(account: StaffCreate, admin: AdminOnly, session: SessionDep,
                         policy: PolicyDep) -> StaffPublic:
    """Add a staff account (admins only). A refusal rolls back at once: on SQLite the
    session holds the write lock, which the idempotency layer needs to keep the answer."""
    try:
        with _rolled_back_if_refused(session):
            user = services.create_staff(session, admin.actor, account,
                                         policy.password_hasher)
            session.commit()
    except WeakPassword as weak:
        raise _field_error("password", str(weak)) from None
    except services.StaffAlreadyExists as exists:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exists)) from None
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, f"a staff account named "
                            f"'{account.username}' already exists") from None
    return StaffPublic.model_validate(user, from_attributes=True)


@admin_router.get("/staff", response_model=list[StaffPublic])
def list_staff_accounts(_admin: AdminOnly, session: SessionDep) -> list[StaffPublic]:
    return [StaffPublic.model_validate(user, from_attributes=True)
            for user in services.list_staff(session)]


@admin_router.patch("/staff/{username}", response_model=StaffPublic)
def update_staff_account(username: Annotated[PlainText, Path(max_length=40)],
                         changes: StaffUpdate, admin: AdminOnly,
                         session: SessionDep) -> StaffPublic:
    """Change a role, display name or active flag; a role or active change signs the
    account out everywhere."""
    try:
        with _rolled_back_if_refused(session):
            user = services.update_staff(session, admin.actor, username, changes,
                                         acting_username=admin.username)
            session.commit()
    except services.StaffNotFound as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None
    except services.OwnAccountChange as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
    return StaffPublic.model_validate(user, from_attributes=True)


@admin_router.post("/staff/{username}/second-factor/reset", response_model=StaffPublic)
def reset_second_factor(username: Annotated[PlainText, Path(max_length=40)],
                        admin: AdminOnly, session: SessionDep) -> StaffPublic:
    """Remove an account's two-step key (a lost device); it sets one up at its next
    sign-in, and is signed out everywhere now."""
    try:
        with _rolled_back_if_refused(session):
            user = services.reset_second_factor(session, admin.actor, username)
            session.commit()
    except services.StaffNotFound as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None
    return StaffPublic.model_validate(user, from_attributes=True)


@admin_router.post("/sign-in-unlock", status_code=204)
def unlock_sign_in(unlock: SignInUnlock, admin: AdminOnly, session: SessionDep,
                   settings: SettingsDep, request: Request) -> None:
    """Clear the sign-in delays of a staff account (`username`) or a booking reference
    (`booking_reference`), once the holder has been checked; audited."""
    if (unlock.username is None) == (unlock.booking_reference is None):
        raise _field_error("username", "give either username or booking_reference")
    try:
        with _rolled_back_if_refused(session):
            services.unlock_sign_in(session, admin.actor, settings.secret_key,
                                    clock_of(request)(), username=unlock.username,
                                    booking_reference=unlock.booking_reference)
            session.commit()
    except services.StaffNotFound as missing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(missing)) from None
    except services.BadBookingReference as bad:
        raise _field_error("booking_reference", str(bad)) from None


@admin_router.get("/audit", response_model=list[AuditEventPublic])
def read_audit(_admin: AdminOnly, session: SessionDep,
               entity: FilterText = None, entity_id: FilterText = None,
               actor: FilterText = None, action: FilterText = None,
               before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
               limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
               ) -> list[AuditEventPublic]:
    """Audit events, newest first; page with `before_id` = the last id you got."""
    return read_audit_events(session, entity=entity, entity_id=entity_id, actor=actor,
                             action=action, before_id=before_id, limit=limit)


@patients_router.get("/{patient_id}/access-log", response_model=list[PatientRecordReadPublic])
def patient_access_log(patient_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                       admin: AdminOnly, session: ReadSessionDep, request: Request,
                       before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                       limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
                       ) -> list[PatientRecordReadPublic]:
    """Who read this patient's record, when, what and through which route, newest first
    (administrators, for information governance); page with `before_id`. Reading the log is
    itself logged."""
    found = reads_of_patient(session, patient_id, before_id=before_id, limit=limit)
    record_read(session, reader_of(admin, request), patient_id, "access-log")
    return found


@contextmanager
def _rolled_back_if_refused(session: Session) -> Iterator[None]:
    """Roll back as soon as a change is refused: on SQLite the session holds the write lock,
    which the idempotency layer needs next to keep the refusal for replay."""
    try:
        yield
    except BaseException:
        session.rollback()
        raise


def _context(request: Request, secret: str, policy: AccessPolicy
             ) -> services.SignInContext:
    return services.SignInContext(secret=secret, policy=policy,
                                  client=client_address(request), now=clock_of(request)())


def _granted_or_refused(token: SessionToken | None, message: str, kind: SignInKind
                        ) -> SessionToken:
    if token is None:
        logger.info("sign-in refused", extra={"event": f"{kind}_sign_in_failed"})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, message,
                            headers={"WWW-Authenticate": "Bearer"})
    logger.info("signed in", extra={"event": f"{kind}_sign_in"})
    return token


def _too_many(limited: TooManyAttempts) -> JSONResponse:
    logger.info("sign-in rate limited", extra={"event": "sign_in_rate_limited"})
    return JSONResponse({"detail": str(limited)}, status_code=429,
                        headers={"Retry-After": str(limited.retry_after_s)})


def _busy(busy: HashingBusy) -> JSONResponse:
    logger.warning("sign-in refused: hashing slots full", extra={"event": "sign_in_busy"})
    return JSONResponse({"detail": str(busy)}, status_code=503,
                        headers={"Retry-After": str(busy.retry_after_s)})


def _field_error(field: str, message: str,
                 code: int = status.HTTP_422_UNPROCESSABLE_CONTENT) -> HTTPException:
    return HTTPException(code, [{"loc": ["body", field], "msg": message, "type": "value_error"}])

"""The reporting engine's input frames (`reporting.inputs`) read from the service's tables, so
the month's figures and the national returns come from the live record rather than from a
history folder. Every table is read in one snapshot (one transaction; REPEATABLE READ on
PostgreSQL), column by column into pandas, never row by row through the ORM.

What the service does not record, and how it is filled (docs/reports.md, "From the service"):
- Only appointments that were booked count: a hold let go or expired never was one.
- `cancelled_by` is the patient when the cancellation came through a patient's own channel
  (portal or text reply), the hospital otherwise (a clerk's cancellation is counted as the
  hospital's: the record does not say whether the patient asked).
- An appointment replaces the request's appointment booked before it, when that one was
  cancelled or missed (a reschedule, a rebooking after a DNA).
- A request belongs to the trust of the site it was sent to; when it names none, to the trust of
  its first appointment's site; when it has neither, to the trust of the site nearest the
  patient's area with a room of its modality.
- A patient without a demand area is counted in an area `unknown-<ICS>` of the request's ICS.
- A diary session's bookable minutes are its slots' minutes, less slots blocked or withdrawn;
  a cancelled session, or one without slots, offered none and is left out.
- Sex, ethnic category, GP practice, source setting and referrer codes are not recorded: they
  are blank (the DID lists the examinations this leaves unreportable, with the reason).
- The accession number is the request's worklist entry's (blank before it is first booked).
- Backfill (`backfill`): one row per booked appointment whose slot backfill took up (a freed
  slot naming the appointment let go), with the freed slot's first offer and, when an offer
  was accepted, the appointment that offer booked. A slot filled by a clerk from the clerks'
  list is not a backfill fill. An appointment let go twice keeps its filled (else first)
  freed slot. No freed slot at all: backfill is not in use, the frame is absent (rate blank).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from booking_api.appointments.models import Appointment
from booking_api.audit.models import AuditEvent
from booking_api.backfill.models import BackfillOffer, FreedSlot, FreedState
from booking_api.core.channel import Channel
from booking_api.core.db import database_kind, read_only
from booking_api.interop.models import WorklistEntry
from booking_api.network.models import DemandArea, ExamType, Room, Site, Trust
from booking_api.patients.models import Patient
from booking_api.requests.models import Request, RequestEvent
from booking_api.slots.models import DiarySession, DiarySessionStatus, Slot
from domain.exam_coding import exam_coding
from domain.history import Sex
from domain.lifecycle import AppointmentState, SlotStatus
from reporting.inputs import CancelledBy, ReportInputs

PATIENT_CHANNELS = (Channel.PORTAL.value, Channel.SMS.value)
"""Channels a patient acts through themselves: a cancellation there is the patient's."""
CANCELLING_ACTIONS = ("appointment.cancelled", "appointment.rescheduled_from")
UNOFFERED_SLOTS = (SlotStatus.BUSY_UNAVAILABLE.value, SlotStatus.ENTERED_IN_ERROR.value)
UNKNOWN_AREA = "unknown-"


def service_inputs(engine: Engine) -> ReportInputs:
    """Every input frame, read in one snapshot of the database."""
    with read_only(engine).connect() as connection:
        if database_kind(engine) == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            return _read(connection)


def _read(connection: Connection) -> ReportInputs:
    trusts = _frame(connection, sa.select(
        _text(Trust.trust_id), _text(Trust.name), _text(Trust.ics_id)).order_by(Trust.trust_id))
    trusts["org_code"] = pd.Series(pd.NA, index=trusts.index, dtype="str")
    sites = _frame(connection, sa.select(
        _text(Site.site_id), _text(Site.name), _text(Site.trust_id), Site.lat, Site.lon)
        .order_by(Site.site_id))
    rooms = _frame(connection, sa.select(
        _text(Room.room_id), _text(Room.site_id), _text(Room.modality)).order_by(Room.room_id))
    areas = _frame(connection, sa.select(
        _text(DemandArea.area_id), _text(DemandArea.ics_id), DemandArea.lat, DemandArea.lon)
        .order_by(DemandArea.area_id))
    exams = _exams(connection)
    sessions = _sessions(connection)
    appointments = _appointments(connection)
    requests, patients = _requests_and_patients(connection, appointments, sites, rooms, areas,
                                                trusts, exams)
    known_areas = areas[["area_id", "ics_id"]]
    unknown = requests.area_id.astype(str).str.startswith(UNKNOWN_AREA)
    if unknown.any():
        extra = pd.Series(requests.area_id[unknown].astype(str).unique())
        known_areas = pd.concat([known_areas, pd.DataFrame({
            "area_id": extra, "ics_id": extra.str.removeprefix(UNKNOWN_AREA)})],
            ignore_index=True)
    return ReportInputs(
        requests=requests, patients=patients, request_events=_events(connection),
        appointments=appointments, sessions=sessions, rooms=rooms,
        sites=sites[["site_id", "name", "trust_id"]].assign(
            site_code=pd.Series(pd.NA, index=sites.index, dtype="str")),
        trusts=trusts, areas=known_areas, exams=exams,
        backfill=_backfill(connection, appointments))


def _text(column: sa.ColumnElement) -> sa.ColumnElement:
    """A column read as its stored text (codes stay codes, not enum members)."""
    return sa.type_coerce(column, sa.String).label(column.key)


def _frame(connection: Connection, query: sa.Select) -> pd.DataFrame:
    """The query's rows as the driver returns them (plain tuples; on SQLite, instants as ISO
    text): SQLAlchemy's row objects and type processing cost more than the query itself."""
    result = connection.execute(query)
    columns = list(result.keys())
    return pd.DataFrame(result.cursor.fetchall(), columns=columns)


def _utc(values: pd.Series) -> pd.Series:
    """Instants as UTC (SQLite keeps them as ISO text without an offset, in UTC)."""
    if not len(values):
        return pd.Series(pd.DatetimeIndex([], tz="UTC"), index=values.index,
                         dtype="datetime64[ns, UTC]")
    return pd.to_datetime(values, utc=True, format="ISO8601").astype("datetime64[ns, UTC]")


def _ids(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values).astype(np.int64)


def _exams(connection: Connection) -> pd.DataFrame:
    exams = _frame(connection, sa.select(
        _text(ExamType.code), _text(ExamType.modality), _text(ExamType.family),
        ExamType.duration_min, ExamType.relative_frequency).order_by(ExamType.code))
    coding = exam_coding()
    exams["duration_min"] = _ids(exams.duration_min)
    exams["relative_frequency"] = exams.relative_frequency.astype(float)
    for column in ("snomed_ct_code", "nicip_code"):
        exams[column] = pd.Series([getattr(coding[c], column) if c in coding else None
                                   for c in exams.code], index=exams.index, dtype="str")
    return exams


def _events(connection: Connection) -> pd.DataFrame:
    events = _frame(connection, sa.select(
        RequestEvent.request_id, RequestEvent.at, _text(RequestEvent.from_state),
        _text(RequestEvent.to_state)).order_by(RequestEvent.request_id, RequestEvent.at,
                                               RequestEvent.id))
    return pd.DataFrame({
        "request_id": _ids(events.request_id), "at": _utc(events["at"]),
        "from_state": events.from_state.astype("str"), "to_state": events.to_state.astype("str")})


def _sessions(connection: Connection) -> pd.DataFrame:
    """Sessions that offered slots, with their offered slots' span and minutes, summed by
    the database (a network's six weeks of diaries are over a million slots)."""
    rows = _frame(connection, sa.select(
        Slot.session_id, _text(DiarySession.room_id),
        sa.func.min(Slot.start_at).label("start_at"), sa.func.max(Slot.end_at).label("end_at"),
        _slot_minutes(connection).label("minutes"))
        .join(DiarySession, DiarySession.id == Slot.session_id)
        .where(sa.type_coerce(Slot.status, sa.String).not_in(UNOFFERED_SLOTS),
               sa.type_coerce(DiarySession.status, sa.String)
               != DiarySessionStatus.CANCELLED.value)
        .group_by(Slot.session_id, DiarySession.room_id).order_by(Slot.session_id))
    return pd.DataFrame({
        "session_id": _ids(rows.session_id), "room_id": rows.room_id.astype("str"),
        "start_at": _utc(rows.start_at), "end_at": _utc(rows.end_at),
        "minutes": pd.to_numeric(rows.minutes).round().astype(np.int64)})


def _slot_minutes(connection: Connection) -> sa.ColumnElement:
    """The summed minutes of the slots grouped, in the database's own date arithmetic."""
    if connection.dialect.name == "postgresql":
        return sa.func.sum(sa.extract("epoch", Slot.end_at - Slot.start_at)) / 60
    return sa.func.sum((sa.func.julianday(Slot.end_at) - sa.func.julianday(Slot.start_at))
                       * 1440)


def _appointments(connection: Connection) -> pd.DataFrame:
    rows = _frame(connection, sa.select(
        Appointment.id.label("appointment_id"), Appointment.request_id,
        _text(Appointment.state), _text(Appointment.room_id), Slot.session_id,
        Appointment.start_at, sa.func.coalesce(Appointment.end_at, Slot.end_at).label("end_at"),
        Appointment.booked_at, Appointment.cancelled_at, WorklistEntry.accession_number)
        .join(Slot, Slot.id == Appointment.slot_id)
        .outerjoin(WorklistEntry, WorklistEntry.request_id == Appointment.request_id)
        .where(Appointment.booked_at.is_not(None), Appointment.start_at.is_not(None),
               Appointment.room_id.is_not(None))
        .order_by(Appointment.id))
    cancellers = _frame(connection, sa.select(
        AuditEvent.entity_id, _text(AuditEvent.channel)).where(
        AuditEvent.entity == "appointment", AuditEvent.action.in_(CANCELLING_ACTIONS)))
    ids = _ids(rows.appointment_id)
    by_patient = pd.Series(cancellers.channel.isin(PATIENT_CHANNELS).to_numpy(),
                           index=_ids(cancellers.entity_id) if len(cancellers) else None)
    by_patient = by_patient[~by_patient.index.duplicated(keep="last")]
    cancelled = (rows.state == AppointmentState.CANCELLED.value).to_numpy()
    patient = by_patient.reindex(ids).fillna(False).to_numpy(dtype=bool)
    who = np.where(patient, CancelledBy.PATIENT.value, CancelledBy.HOSPITAL.value)
    frame = pd.DataFrame({
        "appointment_id": ids, "request_id": _ids(rows.request_id),
        "state": rows.state.astype("str"), "room_id": rows.room_id.astype("str"),
        "session_id": pd.array(rows.session_id, dtype="Int64"),
        "start_at": _utc(rows.start_at), "end_at": _utc(rows.end_at),
        "booked_at": _utc(rows.booked_at), "cancelled_at": _utc(rows.cancelled_at),
        "cancelled_by": pd.Series(np.where(cancelled, who, None), dtype="str"),
        "accession_number": rows.accession_number.astype("str"),
    })
    frame.insert(10, "replaces_appointment_id", _replaced(frame))
    return frame


def _backfill(connection: Connection, appointments: pd.DataFrame) -> pd.DataFrame | None:
    """The freed slots of booked appointments, from backfill's own records: first offer sent,
    and the appointment the accepted offer booked (only when the slot was filled by it).
    None when backfill never freed a slot (not in use: the fill rate is blank, not 0)."""
    rows = _frame(connection, sa.select(
        FreedSlot.appointment_id, FreedSlot.first_offer_at,
        sa.case((sa.type_coerce(FreedSlot.state, sa.String) == FreedState.FILLED.value,
                 BackfillOffer.appointment_id)).label("filled_by_appointment_id"))
        .outerjoin(BackfillOffer, BackfillOffer.id == FreedSlot.filled_offer_id)
        .where(FreedSlot.appointment_id.is_not(None))
        .order_by(FreedSlot.appointment_id, FreedSlot.id))
    if rows.empty:
        return None
    booked = set(appointments.appointment_id.tolist())
    ids = _ids(rows.appointment_id)
    filled = pd.to_numeric(rows.filled_by_appointment_id)
    filled = filled.where(filled.isin(booked))
    frame = pd.DataFrame({"appointment_id": ids, "first_offer_at": _utc(rows.first_offer_at),
                          "filled_by_appointment_id": pd.array(filled, dtype="Int64")})
    frame = frame[frame.appointment_id.isin(booked).to_numpy()]
    frame["first_offer_at"] = frame.groupby("appointment_id").first_offer_at.transform("min")
    frame = (frame.assign(unfilled=frame.filled_by_appointment_id.isna())
             .sort_values(["appointment_id", "unfilled"], kind="stable")
             .drop_duplicates("appointment_id").drop(columns="unfilled"))
    return frame.reset_index(drop=True)


def _replaced(appointments: pd.DataFrame) -> pd.Series:
    """The request's appointment booked just before, when it was cancelled or missed."""
    order = appointments.sort_values(["request_id", "booked_at", "appointment_id"]).index
    ordered = appointments.loc[order]
    previous = ordered.appointment_id.shift(1)
    same_request = ordered.request_id.eq(ordered.request_id.shift(1))
    went_wrong = ordered.state.shift(1).isin(
        [AppointmentState.CANCELLED.value, AppointmentState.DNA.value])
    replaced = previous.where(same_request & went_wrong)
    return pd.array(replaced.reindex(appointments.index), dtype="Int64")


def _requests_and_patients(connection: Connection, appointments: pd.DataFrame,
                           sites: pd.DataFrame, rooms: pd.DataFrame, areas: pd.DataFrame,
                           trusts: pd.DataFrame, exams: pd.DataFrame
                           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = _frame(connection, sa.select(
        Request.id.label("request_id"), Request.patient_id, _text(Request.exam_code),
        _text(Request.priority), _text(Request.site_id), Request.received_at)
        .order_by(Request.id))
    people = _frame(connection, sa.select(
        Patient.id.label("patient_id"), Patient.nhs_number, Patient.date_of_birth,
        Patient.postcode, _text(Patient.area_id)).order_by(Patient.id))
    site_trust = sites.set_index("site_id").trust_id
    room_site = rooms.set_index("room_id").site_id
    first_room = (appointments.sort_values(["booked_at", "appointment_id"])
                  .drop_duplicates("request_id").set_index("request_id").room_id)
    request_ids = _ids(rows.request_id)
    booked_site = pd.Series(room_site.reindex(first_room.reindex(request_ids)).to_numpy(),
                            index=rows.index)
    site = rows.site_id.where(rows.site_id.notna(), booked_site)
    trust = pd.Series(site_trust.reindex(site).to_numpy(), index=rows.index, dtype=object)
    patient_area = people.set_index(_ids(people.patient_id)).area_id
    area = pd.Series(patient_area.reindex(_ids(rows.patient_id)).to_numpy(), index=rows.index,
                     dtype=object)
    modality = exams.set_index("code").modality.reindex(rows.exam_code).to_numpy()
    unplaced = trust.isna().to_numpy()
    if unplaced.any():
        trust[unplaced] = _nearest_trusts(area.to_numpy()[unplaced], modality[unplaced],
                                          sites, rooms, areas, trusts)
    trust_ics = trusts.set_index("trust_id").ics_id
    area = area.where(area.notna(), UNKNOWN_AREA + trust_ics.reindex(trust).to_numpy())
    blank = pd.Series(pd.NA, index=rows.index, dtype="str")
    requests = pd.DataFrame({
        "request_id": request_ids, "patient_id": _ids(rows.patient_id),
        "exam_code": rows.exam_code.astype("str"), "priority": rows.priority.astype("str"),
        "trust_id": trust.astype("str"), "area_id": area.astype("str"),
        "received_at": _utc(rows.received_at),
        "requested_on": pd.Series(pd.NaT, index=rows.index, dtype="datetime64[s]"),
        "source_setting": blank, "referrer_code": blank, "referring_org_code": blank})
    blank_people = pd.Series(pd.NA, index=people.index, dtype="str")
    patients = pd.DataFrame({
        "patient_id": _ids(people.patient_id),
        "nhs_number": people.nhs_number.astype("str"),
        "nhs_number_status": blank_people,
        "birth_date": pd.to_datetime(people.date_of_birth, format="ISO8601").astype(
            "datetime64[s]"),
        "sex": pd.Series(Sex.UNKNOWN.value, index=people.index, dtype="str"),
        "ethnic_category": blank_people, "postcode": people.postcode.astype("str"),
        "gp_practice_code": blank_people})
    return requests, patients


def _nearest_trusts(area_ids: np.ndarray, modalities: Sequence[str], sites: pd.DataFrame,
                    rooms: pd.DataFrame, areas: pd.DataFrame, trusts: pd.DataFrame
                    ) -> np.ndarray:
    """The trust of the site nearest each area with a room of the modality (the first trust
    when the area is unknown or no site has the modality)."""
    located = areas.set_index("area_id")
    site_at = sites.set_index("site_id")
    fallback = trusts.trust_id.iloc[0] if len(trusts) else None
    chosen: dict[tuple[object, str], object] = {}
    answer = []
    for area_id, modality in zip(area_ids, modalities, strict=True):
        key = (area_id, modality)
        if key not in chosen:
            with_modality = rooms.site_id[rooms.modality == modality].unique()
            if area_id not in located.index or not len(with_modality):
                chosen[key] = fallback
            else:
                here = located.loc[area_id]
                candidates = site_at.loc[with_modality]
                distance = (candidates.lat - here.lat) ** 2 + (candidates.lon - here.lon) ** 2
                chosen[key] = candidates.trust_id[distance.idxmin()]
        answer.append(chosen[key])
    return np.array(answer, dtype=object)

"""A hand-written October 2026 in the service's tables, for the reports read from the database.
Times are UK wall-clock; the clocks went back at 02:00 on Sunday 25 October (BST to GMT).

- Request A (CT head, patient in area B15, no site named): received 1 Oct 09:00, justified,
  appointable, booked 2 Oct 09:30 for 9 Oct; the patient cancels on the portal 5 Oct 11:00
  (the request goes back to appointable); rebooked 6 Oct 09:00 for 20 Oct 10:00; attended.
- Request B (CT head, patient with no demand area, sent to site S1): received 10 Oct 09:00,
  booked 13 Oct 09:00 for 27 Oct 09:00 (after the clock change); did not attend; appointable
  again 27 Oct 12:00, still waiting at the month end. A hold on another slot expired unbooked.
- Request C (chest X-ray): received 15 Oct, appointable 16 Oct, sent back to justified 17 Oct
  (re-vetted), appointable again 18 Oct.
- Diary, room S1-CT1: three morning sessions (9, 20, 27 Oct) of two offered 10-minute slots
  each, the first with a third slot blocked; a cancelled session on 28 Oct.

With backfill (`add_backfill`, only where a test asks for it), three more requests D, E, F:
- A's slot, freed on 5 Oct 11:00 (95 hours ahead), is offered at 11:01; D's patient accepts
  and is booked into it at 11:20 (attended 9 Oct): filled by backfill.
- E, booked 6 Oct for 20 Oct 10:10, is cancelled by the hospital on 12 Oct 09:00 (8 days
  ahead); the offer (09:02) is declined and the slot goes to the clerks' list: not filled.
- F, booked 6 Oct for 27 Oct 09:10, is cancelled on 26 Oct 12:00 (21 hours ahead, under 48);
  offered at 12:01, E takes it at 12:30 (attended): filled, but not counted in the fill rate,
  which counts slots freed 48 hours or more ahead.
October's backfill fill rate: 1 filled / 2 freed 48 h ahead = 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from booking_api.appointments.models import Appointment
from booking_api.audit.models import AuditEvent
from booking_api.backfill.models import BackfillOffer, FreedSlot, FreedState, OfferState
from booking_api.core.channel import Channel
from booking_api.core.db import transaction
from booking_api.network.services import mirror_reference_data
from booking_api.patients.models import Patient
from booking_api.requests.models import Request, RequestEvent
from booking_api.requests.rules_check import requests_out_of_step
from booking_api.requests.rules_models import RequestProtocol
from booking_api.slots.models import DiarySession, DiarySessionStatus, Slot
from domain.exams import exam_catalogue
from domain.lifecycle import AppointmentState, RequestState, SlotStatus
from domain.network import Network, Trust
from domain.vocabulary import Modality, Priority, SessionPeriod
from tests.booking_api.conftest import make_tiny_network

LONDON = ZoneInfo("Europe/London")
EXAMS = ("XCHES", "CHEAD")
TRUST = "RTS"


def october_network() -> Network:
    """The tiny network, its trust under an ODS-shaped code (the DM01 return checks it)."""
    tiny = make_tiny_network()
    return replace(tiny, trusts=(Trust(TRUST, "Test Hospitals NHS Trust", "ICS1"),),
                   sites=tuple(replace(site, trust_id=TRUST) for site in tiny.sites))


def local(text: str) -> datetime:
    """'YYYY-MM-DD HH:MM' UK time as an aware instant."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@dataclass(frozen=True)
class OctoberIds:
    request_a: int
    request_b: int
    request_c: int
    cancelled: int
    rebooked: int
    missed: int
    expired_hold: int
    sessions: tuple[int, int, int]


def build_october(engine: Engine) -> OctoberIds:
    with transaction(engine) as session:
        catalogue = {code: exam_catalogue()[code] for code in EXAMS}
        mirror_reference_data(session, october_network(), catalogue)
        home = _patient(session, "9434765919", "B15")
        nowhere = _patient(session, "9434765870", None)
        a = _request(session, home, "CHEAD", None, "REF-A", [
            ("2026-10-01 09:00", RequestState.RECEIVED),
            ("2026-10-01 10:00", RequestState.JUSTIFIED),
            ("2026-10-02 09:00", RequestState.APPOINTABLE),
            ("2026-10-02 09:30", RequestState.APPOINTED),
            ("2026-10-05 11:00", RequestState.APPOINTABLE),
            ("2026-10-06 09:00", RequestState.APPOINTED),
            ("2026-10-20 10:00", RequestState.ATTENDED)])
        b = _request(session, nowhere, "CHEAD", "S1", "REF-B", [
            ("2026-10-10 09:00", RequestState.RECEIVED),
            ("2026-10-10 12:00", RequestState.JUSTIFIED),
            ("2026-10-11 09:00", RequestState.APPOINTABLE),
            ("2026-10-13 09:00", RequestState.APPOINTED),
            ("2026-10-27 09:00", RequestState.DNA),
            ("2026-10-27 12:00", RequestState.APPOINTABLE)])
        c = _request(session, home, "XCHES", "S1", "REF-C", [
            ("2026-10-15 09:00", RequestState.RECEIVED),
            ("2026-10-15 10:00", RequestState.JUSTIFIED),
            ("2026-10-16 09:00", RequestState.APPOINTABLE),
            ("2026-10-17 09:00", RequestState.JUSTIFIED),
            ("2026-10-18 09:00", RequestState.APPOINTABLE)])
        first, first_slots = _session(session, "2026-10-09", "10:00", offered=2, blocked=1)
        second, second_slots = _session(session, "2026-10-20", "10:00", offered=2)
        third, third_slots = _session(session, "2026-10-27", "09:00", offered=2)
        _session(session, "2026-10-28", "09:00", offered=2, cancelled=True)
        cancelled = _appointment(session, a, home, first_slots[0], AppointmentState.CANCELLED,
                                 booked="2026-10-02 09:30", cancelled="2026-10-05 11:00")
        session.add(AuditEvent(actor="patient:1", channel=Channel.PORTAL,
                               action="appointment.cancelled", entity="appointment",
                               entity_id=str(cancelled), at=local("2026-10-05 11:00")))
        rebooked = _appointment(session, a, home, second_slots[0], AppointmentState.ATTENDED,
                                booked="2026-10-06 09:00")
        missed = _appointment(session, b, nowhere, third_slots[0], AppointmentState.DNA,
                              booked="2026-10-13 09:00")
        hold = _appointment(session, b, nowhere, third_slots[1], AppointmentState.CANCELLED,
                            booked=None, cancelled="2026-10-12 09:15")
        assert requests_out_of_step(session, date(2026, 10, 31)) == []
        return OctoberIds(a, b, c, cancelled, rebooked, missed, hold, (first, second, third))


@dataclass(frozen=True)
class BackfillIds:
    filler: int
    """D's appointment in A's freed slot."""
    unfilled: int
    late: int
    late_filler: int


def add_backfill(engine: Engine, ids: OctoberIds) -> BackfillIds:
    """The freed slots and offers of the module docstring, over `build_october`'s world."""
    with transaction(engine) as session:
        request_a = session.get(Request, ids.request_a)
        assert request_a is not None
        home = request_a.patient_id
        first_slots, second_slots, third_slots = (_slots_of(session, s) for s in ids.sessions)
        d = _request(session, home, "CHEAD", "S1", "REF-D", [
            ("2026-09-28 09:00", RequestState.RECEIVED),
            ("2026-10-05 11:20", RequestState.APPOINTED),
            ("2026-10-09 10:00", RequestState.ATTENDED)])
        e = _request(session, home, "CHEAD", "S1", "REF-E", [
            ("2026-09-29 09:00", RequestState.RECEIVED),
            ("2026-10-06 09:00", RequestState.APPOINTED),
            ("2026-10-12 09:00", RequestState.APPOINTABLE),
            ("2026-10-26 12:30", RequestState.APPOINTED),
            ("2026-10-27 09:10", RequestState.ATTENDED)])
        f = _request(session, home, "CHEAD", "S1", "REF-F", [
            ("2026-09-30 09:00", RequestState.RECEIVED),
            ("2026-10-06 09:00", RequestState.APPOINTED),
            ("2026-10-26 12:00", RequestState.APPOINTABLE)])
        filler = _appointment(session, d, home, first_slots[0], AppointmentState.ATTENDED,
                              booked="2026-10-05 11:20")
        unfilled = _appointment(session, e, home, second_slots[1], AppointmentState.CANCELLED,
                                booked="2026-10-06 09:00", cancelled="2026-10-12 09:00")
        late = _appointment(session, f, home, third_slots[1], AppointmentState.CANCELLED,
                            booked="2026-10-06 09:00", cancelled="2026-10-26 12:00")
        late_filler = _appointment(session, e, home, third_slots[1], AppointmentState.ATTENDED,
                                   booked="2026-10-26 12:30")
        _freed(session, first_slots[0], ids.cancelled, (d, home), "2026-10-05 11:00",
               "2026-10-05 11:01", filled_by=filler)
        _freed(session, second_slots[1], unfilled, (e, home), "2026-10-12 09:00",
               "2026-10-12 09:02", filled_by=None)
        _freed(session, third_slots[1], late, (e, home), "2026-10-26 12:00",
               "2026-10-26 12:01", filled_by=late_filler)
        return BackfillIds(filler, unfilled, late, late_filler)


def _slots_of(session: Session, session_id: int) -> list[int]:
    return sorted(slot.id for slot in session.exec(
        select(Slot).where(Slot.session_id == session_id)) if slot.id is not None)


def _freed(session: Session, slot_id: int, let_go: int, offered_to: tuple[int, int],
           freed: str, offered: str, filled_by: int | None) -> None:
    """A freed slot and its one offer to (request, patient): accepted (the booking
    `filled_by` made) or declined, the slot then on the clerks' list."""
    slot = session.get(Slot, slot_id)
    assert slot is not None
    row = FreedSlot(slot_id=slot_id, site_id="S1", start_at=slot.start_at,
                    freed_at=local(freed), cause="clerk_cancelled", appointment_id=let_go,
                    state=FreedState.FILLED if filled_by else FreedState.CLERK_LIST,
                    wave=1, first_offer_at=local(offered))
    session.add(row)
    session.flush()
    assert row.id is not None
    offer = BackfillOffer(freed_slot_id=row.id, request_id=offered_to[0],
                          patient_id=offered_to[1], source="waiting_list", position=1,
                          reasons=["test"], wave=1, sent_at=local(offered),
                          state=OfferState.ACCEPTED if filled_by else OfferState.DECLINED,
                          appointment_id=filled_by)
    session.add(offer)
    session.flush()
    if filled_by:
        row.filled_offer_id = offer.id
        session.add(row)
        session.flush()

def _patient(session: Session, nhs_number: str, area: str | None) -> int:
    patient = Patient(nhs_number=nhs_number, given_name="Test", family_name="Patient",
                      date_of_birth=date(1961, 3, 4), postcode_district="B15",
                      postcode="B15 2TH", area_id=area, email=f"{nhs_number}@example.org")
    session.add(patient)
    session.flush()
    assert patient.id is not None
    return patient.id


def _request(session: Session, patient: int, exam: str, site: str | None, reference: str,
             events: list[tuple[str, RequestState]]) -> int:
    """The request with its hand-written history, vetted (protocol and all) when the history
    says it was justified: the facts its final state rests on, so the rules agree with it."""
    vetted = max((local(at) for at, state in events if state is RequestState.JUSTIFIED),
                 default=None)
    request = Request(patient_id=patient, exam_code=exam, priority=Priority.ROUTINE,
                      state=events[-1][1], received_at=local(events[0][0]), referrer="GP",
                      booking_reference=reference, site_id=site, vetted_at=vetted,
                      vetted_by="radiologist:test" if vetted else None,
                      protocol="standard" if vetted else None)
    session.add(request)
    session.flush()
    assert request.id is not None
    if vetted is not None:
        session.add(RequestProtocol(request_id=request.id, exam_code=exam, protocol="standard",
                                    contrast=False, sedation=False, priority=Priority.ROUTINE,
                                    assigned_by="radiologist:test", assigned_at=vetted))
    before = None
    for at, state in events:
        session.add(RequestEvent(request_id=request.id, at=local(at), actor="test",
                                 from_state=before, to_state=state))
        before = state
    session.flush()
    return request.id


def _session(session: Session, day: str, first: str, offered: int, blocked: int = 0,
             cancelled: bool = False) -> tuple[int, list[int]]:
    diary = DiarySession(room_id="S1-CT1", session_date=date.fromisoformat(day),
                         period=SessionPeriod.MORNING, template_id="CT_GENERAL",
                         status=DiarySessionStatus.CANCELLED if cancelled
                         else DiarySessionStatus.OPEN)
    session.add(diary)
    session.flush()
    start = local(f"{day} {first}")
    slots = []
    for n in range(offered + blocked):
        slot = Slot(session_id=diary.id, room_id="S1-CT1", site_id="S1",
                    start_at=start + timedelta(minutes=10 * n),
                    end_at=start + timedelta(minutes=10 * (n + 1)), modality=Modality.CT,
                    families="CT_PLAIN", status=SlotStatus.BUSY_UNAVAILABLE if n >= offered
                    else SlotStatus.FREE)
        session.add(slot)
        session.flush()
        slots.append(slot.id)
    assert diary.id is not None
    return diary.id, slots


def _appointment(session: Session, request: int, patient: int, slot_id: int,
                 state: AppointmentState, booked: str | None,
                 cancelled: str | None = None) -> int:
    slot = session.get(Slot, slot_id)
    assert slot is not None
    appointment = Appointment(request_id=request, slot_id=slot_id, channel=Channel.CLERK,
                              patient_id=patient, state=state, room_id=slot.room_id,
                              start_at=slot.start_at, end_at=slot.end_at,
                              booked_at=local(booked) if booked else None,
                              cancelled_at=local(cancelled) if cancelled else None)
    session.add(appointment)
    session.flush()
    assert appointment.id is not None
    return appointment.id

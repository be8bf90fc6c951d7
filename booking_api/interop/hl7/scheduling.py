"""Scheduling and order status out, built with hl7apy: SIU (S12 booked, S13 rescheduled,
S14 modified — here: attended, S15 cancelled, S26 no-show) carrying the worklist data of IHE
Scheduled Workflow (placer and filler order numbers, accession number in SCH-2/OBR, the
scheduled step in AIS, the room as AIL), and ORR^O02 for every change of a request's state
(ORC-5 from HL7 table 0038)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hl7apy.core import Message

from booking_api.interop.hl7.acks import OUR_APPLICATION, OUR_FACILITY, VERSION, _escape
from booking_api.interop.status_events import Snapshot, StatusEvent

LONDON = ZoneInfo("Europe/London")
SIU_OF = {"appointment.booked": "S12", "appointment.rescheduled": "S13",
          "appointment.attended": "S14", "appointment.cancelled": "S15",
          "appointment.dna": "S26"}
FILLER_STATUS = {"S12": "Booked", "S13": "Booked", "S14": "Complete", "S15": "Cancelled",
                 "S26": "Noshow"}
ORDER_STATUS = {"received": "IP", "justified": "IP", "waiting": "HD", "appointable": "IP",
                "appointed": "SC", "rejected": "CA", "cancelled": "CA", "dna": "HD",
                "attended": "CM", "acquired": "CM", "reported": "CM", "amended": "CM"}


def message_type_for(event: StatusEvent) -> str:
    return f"SIU^{SIU_OF[event.kind]}" if event.kind in SIU_OF else "ORR^O02"


def build_status_message(event: StatusEvent, shot: Snapshot, control_id: str,
                         receiver: str, now: datetime) -> str:
    """The HL7 message telling `receiver` of `event` (ER7)."""
    if event.kind in SIU_OF:
        return _siu(SIU_OF[event.kind], event, shot, control_id, receiver, now)
    return _orr(event, shot, control_id, receiver, now)


def _siu(trigger: str, event: StatusEvent, shot: Snapshot, control_id: str, receiver: str,
         now: datetime) -> str:
    structure = "SIU_S12"
    message = Message(structure, version=VERSION)
    _msh(message, f"SIU^{trigger}^{structure}", control_id, receiver, now)
    appointment, worklist = shot.appointment, shot.worklist
    sch = message.sch
    sch.sch_1 = _placer(shot)
    sch.sch_2 = f"{worklist.accession_number if worklist else shot.booking_reference}^CDIP"
    if event.reason:
        sch.sch_6 = f"^{_escape(event.reason)[:200]}"
    sch.sch_7 = f"{shot.exam_code}^{_escape(shot.exam_name)}^NICIP"
    if appointment is not None and appointment.start_at and appointment.end_at:
        minutes = int((appointment.end_at - appointment.start_at).total_seconds() // 60)
        sch.sch_9 = str(minutes)
        sch.sch_10 = "min"
        sch.sch_11 = f"^^{minutes}^{_ts(appointment.start_at)}^{_ts(appointment.end_at)}"
    sch.sch_25 = FILLER_STATUS[trigger]
    patient = message.add_group("SIU_S12_PATIENT")
    _pid(patient.pid, shot)
    resources = message.add_group("SIU_S12_RESOURCES")
    resources.rgs.rgs_1 = "1"
    service = resources.add_group("SIU_S12_SERVICE")
    service.ais.ais_1 = "1"
    service.ais.ais_2 = worklist.scheduled_step_id if worklist else ""
    service.ais.ais_3 = f"{shot.exam_code}^{_escape(shot.exam_name)}^NICIP"
    if appointment is not None and appointment.start_at:
        service.ais.ais_4 = _ts(appointment.start_at)
        location = resources.add_group("SIU_S12_LOCATION_RESOURCE")
        location.ail.ail_1 = "1"
        location.ail.ail_3 = f"^^^{appointment.room_id}"
        if worklist:
            location.ail.ail_4 = f"{worklist.station_ae_title}^{worklist.modality}"
    return message.to_er7()


def _orr(event: StatusEvent, shot: Snapshot, control_id: str, receiver: str,
         now: datetime) -> str:
    message = Message("ORR_O02", version=VERSION)
    _msh(message, "ORR^O02^ORR_O02", control_id, receiver, now)
    message.msa.msa_1 = "AA"
    message.msa.msa_2 = control_id
    response = message.add_group("ORR_O02_RESPONSE")
    patient = response.add_group("ORR_O02_PATIENT")
    _pid(patient.pid, shot)
    order = response.add_group("ORR_O02_ORDER")
    orc = order.orc
    state = event.kind.removeprefix("request.")
    orc.orc_1 = "XR" if state == "changed" else ("OC" if state in ("cancelled", "rejected")
                                                 else "SC")
    orc.orc_2 = _placer(shot)
    orc.orc_3 = f"{shot.booking_reference}^CDIP"
    orc.orc_5 = ORDER_STATUS.get(shot.request_state, "IP")
    orc.orc_9 = _ts(event.at)
    if event.reason:
        orc.orc_16 = f"^{_escape(event.reason)[:200]}"
    return message.to_er7()


def _msh(message: Message, message_type: str, control_id: str, receiver: str,
         now: datetime) -> None:
    msh = message.msh
    msh.msh_3 = OUR_APPLICATION
    msh.msh_4 = OUR_FACILITY
    msh.msh_5 = _escape(receiver)
    msh.msh_7 = _ts(now)
    msh.msh_9 = message_type
    msh.msh_10 = control_id
    msh.msh_11 = "P"
    msh.msh_12 = VERSION


def _pid(pid, shot: Snapshot) -> None:
    identifiers = [f"{shot.patient_id}^^^CDIP^PI"]
    if shot.nhs_number:
        identifiers.insert(0, f"{shot.nhs_number}^^^NHS^NH")
    pid.pid_3 = "~".join(identifiers)
    pid.pid_5 = f"{_escape(shot.family_name).upper()}^{_escape(shot.given_name).upper()}"
    pid.pid_7 = shot.date_of_birth.strftime("%Y%m%d")


def _placer(shot: Snapshot) -> str:
    if shot.placer_order_number:
        return f"{_escape(shot.placer_order_number)}^{_escape(shot.placer_system or '')}"
    return ""


def _ts(moment: datetime) -> str:
    """HL7 DTM in UK local time with its offset (so the clock changes are explicit)."""
    return moment.astimezone(LONDON).strftime("%Y%m%d%H%M%S%z")

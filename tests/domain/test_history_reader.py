"""Reading a history folder: a valid one comes back typed; every kind of malformed file is
refused with a message naming the file, the column and the row as the file shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.history import HistoryError, read_history

PATIENTS = """\
patient_id,birth_year,sex,area_id,imd_decile
P1,1970,F,B1,3
P2,2001,M,B2,9
"""
REQUESTS = """\
request_id,patient_id,received_date,exam_code,exam_family,modality,priority,area_id,due_date
R1,P1,2024-04-01,XCHES,XR_PLAIN,XR,routine,B1,
R2,P2,2024-04-02,MBRAI,MR_NEURO,MR,planned,B2,2024-06-01
"""
APPOINTMENTS = """\
appointment_id,request_id,patient_id,site_id,modality,booked_date,start,lead_time_days,\
age_years,distance_km,booking_channel,sms_reminder,outcome
A1,R1,P1,S1,XR,2024-04-01,2024-04-01T09:10,0,54,3.2,clerk,no,attended
A2,R2,P2,S2,MR,2024-04-05,2024-05-30T17:30,55,23,12,portal,yes,dna
A3,R2,P2,S2,MR,2024-06-03,2024-06-10T08:00,7,23,12.0,letter,yes,cancelled_hospital
"""
DNA_PROBABILITY = "appointment_id,p_dna\nA1,0.01\nA2,0.2\nA3,0.05\n"
EXPECTED_DEMAND = "week_start,exam_family,area_id,expected\n2024-04-01,XR_PLAIN,B1,3.5\n"
META = '{"seed": 1, "weeks": 1}\n'

FILES = {
    "patients.csv": PATIENTS, "requests.csv": REQUESTS, "appointments.csv": APPOINTMENTS,
    "truth/dna_probability.csv": DNA_PROBABILITY,
    "truth/expected_demand.csv": EXPECTED_DEMAND, "truth/meta.json": META,
}


def _write(folder: Path, changes: dict[str, tuple[str, str]] | None = None,
           leave_out: tuple[str, ...] = ()) -> Path:
    for name, text in FILES.items():
        if name.split("/")[0] in leave_out or name in leave_out:
            continue
        if changes and name in changes:
            old, new = changes[name]
            assert old in text, f"test setup: '{old}' not in {name}"
            text = text.replace(old, new, 1)
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def test_a_valid_history_reads_with_typed_columns(tmp_path: Path) -> None:
    history = read_history(_write(tmp_path))
    appointments = history.appointments
    assert list(appointments.appointment_id) == ["A1", "A2", "A3"]
    assert str(appointments.start.dtype).startswith("datetime64")
    assert appointments.start[1].hour == 17 and appointments.start[1].minute == 30
    assert list(appointments.sms_reminder) == [False, True, True]
    assert appointments.lead_time_days.dtype.kind == "i"
    assert history.requests.due_date.isna().tolist() == [True, False]
    assert history.truth is not None
    assert history.truth.meta["seed"] == 1
    assert history.truth.dna_probability.p_dna.tolist() == [0.01, 0.2, 0.05]


def test_a_trust_export_without_truth_reads_with_no_truth(tmp_path: Path) -> None:
    history = read_history(_write(tmp_path, leave_out=("truth",)))
    assert history.truth is None
    assert len(history.requests) == 2


BAD_CASES = [
    # (file, old text, new text, column named, row named, words in the problem)
    ("appointments.csv", "A2,R2,P2,S2,MR,", "A2,R2,P2,S2,ZZ,", "modality", 3, "not one of"),
    ("appointments.csv", "2024-05-30T17:30", "2024-05-30 17:30", "start", 3, "date and time"),
    ("appointments.csv", "2024-05-30T17:30", "2024-05-30T25:30", "start", 3, "date and time"),
    ("appointments.csv", "A2,R2,", "A2,R9,", "request_id", 3, "no such request"),
    ("appointments.csv", "A2,R2,P2,", "A2,R2,P1,", "patient_id", 3, "request's"),
    ("appointments.csv", ",55,", ",-55,", "lead_time_days", 3, "below 0"),
    ("appointments.csv", ",55,", ",54,", "lead_time_days", 3, "start date minus"),
    ("appointments.csv", ",55,", ",five,", "lead_time_days", 3, "whole number"),
    ("appointments.csv", ",12,portal", ",-1,portal", "distance_km", 3, "below 0"),
    ("appointments.csv", ",12,portal", ",nan,portal", "distance_km", 3, "not a number"),
    ("appointments.csv", ",portal,", ",email,", "booking_channel", 3, "not one of"),
    ("appointments.csv", ",yes,dna", ",maybe,dna", "sms_reminder", 3, "yes or no"),
    ("appointments.csv", ",dna", ",no_show", "outcome", 3, "not one of"),
    ("appointments.csv", "A3,", "A2,", "appointment_id", 4, "twice"),
    ("appointments.csv", "2024-04-05,", "2024-03-05,", "booked_date", 3, "before the request"),
    ("appointments.csv", "A1,R1,P1,S1,", "A1,R1,P1,,", "site_id", 2, "blank"),
    ("appointments.csv", ",outcome\n", ",result\n", "outcome", 1, "missing column"),
    ("requests.csv", "2024-04-02", "2024-02-30", "received_date", 3, "not a date"),
    ("requests.csv", "2024-04-02", "2024-4-2", "received_date", 3, "not a date"),
    ("requests.csv", "2024-04-02", "02/04/2024", "received_date", 3, "not a date"),
    ("requests.csv", ",MR_NEURO,MR,", ",MR_NEURO,CT,", "modality", 3, "exam family"),
    ("requests.csv", ",XR_PLAIN,", ",XR_PLAN,", "exam_family", 2, "not one of"),
    ("requests.csv", ",routine,B1,", ",routine,B1,2024-05-01", "due_date", 2, "not planned"),
    ("requests.csv", ",routine,", ",soon,", "priority", 2, "not one of"),
    ("requests.csv", "R2,P2,", "R2,P7,", "patient_id", 3, "no such patient"),
    ("patients.csv", "P2,2001,M,B2,9", "P2,2001,M,B2,11", "imd_decile", 3, "above 10"),
    ("patients.csv", "P2,2001,M", "P2,2001,X", "sex", 3, "not one of"),
    ("patients.csv", "P2,", "P1,", "patient_id", 3, "twice"),
    ("patients.csv", ",imd_decile", ",imd_decile,notes", "notes", 1, "unknown column"),
    ("truth/dna_probability.csv", "A2,0.2", "A2,1.2", "p_dna", 3, "above 1"),
    ("truth/dna_probability.csv", "A2,0.2", "A9,0.2", "appointment_id", 3,
     "no such appointment"),
    ("truth/expected_demand.csv", "2024-04-01", "2024-04-02", "week_start", 2, "not a Monday"),
    ("truth/expected_demand.csv", ",3.5", ",-3.5", "expected", 2, "below 0"),
]


@pytest.mark.parametrize(("file", "old", "new", "column", "row", "problem"), BAD_CASES,
                         ids=[f"{c[0]}:{c[3]}:{c[5]}" for c in BAD_CASES])
def test_a_malformed_file_is_refused_naming_file_column_and_row(
        tmp_path: Path, file: str, old: str, new: str, column: str, row: int,
        problem: str) -> None:
    folder = _write(tmp_path, {file: (old, new)})
    with pytest.raises(HistoryError) as caught:
        read_history(folder)
    message = str(caught.value)
    assert caught.value.file.endswith(file)
    assert caught.value.field == column
    assert caught.value.row == row
    assert f"{file}, row {row}, field '{column}'" in message
    assert problem in message


def test_a_row_with_too_many_cells_is_refused_with_its_row(tmp_path: Path) -> None:
    folder = _write(tmp_path, {"requests.csv": ("routine,B1,\n", "routine,B1,,extra\n")})
    with pytest.raises(HistoryError, match=r"requests.csv, row 2: has 10 cells"):
        read_history(folder)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match=r"appointments.csv: file not found"):
        read_history(_write(tmp_path, leave_out=("appointments.csv",)))


def test_truth_without_a_probability_for_every_appointment_is_refused(tmp_path: Path) -> None:
    folder = _write(tmp_path, {"truth/dna_probability.csv": ("A3,0.05\n", "")})
    with pytest.raises(HistoryError, match=r"no p_dna for appointments.csv row 4"):
        read_history(folder)


def test_exam_codes_and_sites_are_checked_when_a_catalogue_and_network_are_given(
        tmp_path: Path) -> None:
    folder = _write(tmp_path)
    with pytest.raises(HistoryError, match=r"requests.csv, row 3, field 'exam_code'"):
        read_history(folder, exam_codes={"XCHES"}, site_ids={"S1", "S2"})
    with pytest.raises(HistoryError, match=r"appointments.csv, row 3, field 'site_id'"):
        read_history(folder, exam_codes={"XCHES", "MBRAI"}, site_ids={"S1"})

"""The Diagnostic Imaging Dataset for a month: one record per examination attended in the
month (UK date of the appointment's start), in the DIDS v1.0 layout.

A record missing something the dataset needs is not written: it is listed in `exceptions`
with every reason (no NHS number or one failing its check digit, no patient source setting,
referrer or referring organisation, an exam with neither a NICIP nor a SNOMED CT code, no
accession number or one already used). Optional items that are malformed are left blank and
counted in `warnings`; so are sites reported under their trust's code for want of an ODS site
code. Where the request date was not recorded the received date stands in for it (orders
arrive electronically the day they are made).

The report issue date is the first `reported` event of the request at or after the test."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from domain.history import Sex
from domain.lifecycle import AppointmentState, RequestState
from reporting.layouts import DID, check_layout, is_nhs_number
from reporting.london import Month, local_days
from reporting.record import Record, appointment_code, state_code

GENDER_CODE = {Sex.FEMALE.value: "2", Sex.MALE.value: "1", Sex.UNKNOWN.value: "0"}
EXCEPTION_COLUMNS = ["appointment_id", "accession_number", "test_date", "site_id", "exam_code",
                     "reasons"]


@dataclass(frozen=True)
class DidReturn:
    month: str
    rows: pd.DataFrame
    exceptions: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def did_return(record: Record, month: Month) -> DidReturn:
    a = record.appointments
    done = np.flatnonzero((a.state == appointment_code(AppointmentState.ATTENDED))
                          & (a.start >= month.start_ns) & (a.start < month.end_ns))
    done = done[np.argsort(a.start[done], kind="stable")]
    cells, warnings = _cells(record, done)
    reasons = _reasons(record, done, cells)
    keep = reasons == ""
    rows = pd.DataFrame({name: cells[name][keep] for name in DID.names})
    rows = rows.reset_index(drop=True)
    check_layout(rows, DID)
    return DidReturn(month.label, rows, _exceptions(record, done[~keep], cells, reasons[~keep]),
                     warnings)


def _cells(record: Record, done: np.ndarray) -> tuple[dict[str, pd.Series], list[str]]:
    inputs, t, a, r = record.inputs, record.tables, record.appointments, record.requests
    request = a.request[done]
    requests = inputs.requests.iloc[request]
    patients = inputs.patients.iloc[r.patient[request]]
    site = t.room_site[a.room[done]]
    exam = t.exams.iloc[r.exam[request]]
    warnings: list[str] = []
    received = pd.Series(local_days(r.received[request]))
    asked = requests.requested_on.reset_index(drop=True)
    cells = {
        "NHSNumber": _text(patients.nhs_number),
        "NHSNumberStatus": _optional(patients.nhs_number_status, r"0[1-8]", "NHS number status",
                                     warnings),
        "PersonBirthDate": _dates(patients.birth_date.reset_index(drop=True)),
        "EthnicCategory": _optional(patients.ethnic_category, r"[A-HJ-NPRSZ]|99",
                                    "ethnic category", warnings),
        "PersonGenderCode": _text(patients.sex).map(GENDER_CODE),
        "Address": _optional(_text(patients.postcode).str.upper(),
                             r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", "postcode", warnings),
        "GPCodeRegistration": _optional(patients.gp_practice_code, r"[A-Z0-9]{6}",
                                        "GP practice code", warnings),
        "PatientSourceSetting": _text(requests.source_setting),
        "ReferrerCode": _text(requests.referrer_code),
        "ReferringOrgCode": _text(requests.referring_org_code),
        "DiagnosticTestReqDate": _dates(asked.where(asked.notna(), received)),
        "DiagnosticTestReqRecDate": _dates(received),
        "ImagingCodeNICIP": _text(exam.nicip_code),
        "ImagingCodeSNOMEDCT": _text(exam.snomed_ct_code),
        "DiagnosticTestDate": _dates(pd.Series(local_days(a.start[done]))),
        "ServiceReportIssueDate": _dates(pd.Series(_report_days(record, done))),
        "ImagingSiteCode": _site_codes(record, site, warnings),
        "RadiologicalAccessionNumber": _text(inputs.appointments.accession_number.iloc[done]),
    }
    return cells, warnings


def _reasons(record: Record, done: np.ndarray, cells: dict[str, pd.Series]) -> np.ndarray:
    """'; '-joined reasons per record; '' for a record that can be reported."""
    blank = {name: (values.isna() | (values == "")).to_numpy() for name, values in cells.items()}
    accession = cells["RadiologicalAccessionNumber"]
    checks = [
        (blank["NHSNumber"], "no NHS number"),
        (~blank["NHSNumber"] & ~is_nhs_number(cells["NHSNumber"]),
         "NHS number fails the modulus 11 check"),
        (blank["PatientSourceSetting"], "no patient source setting"),
        (blank["ReferrerCode"], "no referrer code"),
        (blank["ReferringOrgCode"], "no referring organisation code"),
        (blank["ImagingCodeNICIP"] & blank["ImagingCodeSNOMEDCT"],
         "the exam has neither a NICIP nor a SNOMED CT code in the catalogue"),
        (blank["RadiologicalAccessionNumber"], "no accession number"),
        (~blank["RadiologicalAccessionNumber"] & accession.duplicated().to_numpy(),
         "accession number already used by another examination this month"),
        (blank["ImagingSiteCode"], "no ODS code for the site or its trust"),
    ]
    code = np.zeros(len(done), np.int64)  # one bit per failed check
    for bit, (failing, _) in enumerate(checks):
        code |= failing.astype(np.int64) << bit
    combinations, which = np.unique(code, return_inverse=True)
    text = ["; ".join(reason for bit, (_, reason) in enumerate(checks) if combination >> bit & 1)
            for combination in combinations]
    return np.array(text, dtype=object)[which]


def _exceptions(record: Record, rows: np.ndarray, cells: dict[str, pd.Series],
                reasons: np.ndarray) -> pd.DataFrame:
    inputs, t, a, r = record.inputs, record.tables, record.appointments, record.requests
    return pd.DataFrame({
        "appointment_id": inputs.appointments.appointment_id.to_numpy()[rows],
        "accession_number": inputs.appointments.accession_number.iloc[rows].to_numpy(),
        "test_date": local_days(a.start[rows]),
        "site_id": t.sites.site_id.astype(str).to_numpy()[t.room_site[a.room[rows]]],
        "exam_code": t.exams.code.astype(str).to_numpy()[r.exam[a.request[rows]]],
        "reasons": reasons,
    }, columns=EXCEPTION_COLUMNS)


def _report_days(record: Record, done: np.ndarray) -> np.ndarray:
    """UK date of the first `reported` event at or after each test's start (NaT if none)."""
    e, a = record.events, record.appointments
    request = a.request[done]
    lengths = e.offsets[request + 1] - e.offsets[request]
    owner = np.repeat(np.arange(len(done)), lengths)
    index = np.repeat(e.offsets[request] - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(
        lengths.sum())
    reported = e.state[index] == state_code(RequestState.REPORTED)
    hit = reported & (e.at[index] >= a.start[done][owner])
    first = np.full(len(done), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, owner[hit], e.at[index][hit])
    found = first < np.iinfo(np.int64).max
    days = np.full(len(done), np.datetime64("NaT"), dtype="datetime64[D]")
    days[found] = local_days(first[found])
    return days


def _site_codes(record: Record, site: np.ndarray, warnings: list[str]) -> pd.Series:
    t = record.tables
    site_code = t.sites.site_code.astype("str").to_numpy(dtype=object)
    trust = t.site_trust
    org = t.trusts.org_code.astype("str").to_numpy(dtype=object)[trust]
    fallback = t.trusts.trust_id.astype(str).to_numpy(dtype=object)[trust]
    per_site = np.where(pd.isna(site_code), np.where(pd.isna(org), fallback, org), site_code)
    lacking = sorted(set(t.sites.site_id.astype(str).to_numpy()[np.unique(site)][
        pd.isna(site_code[np.unique(site)])]))
    if lacking:
        warnings.append(f"no ODS site code for {len(lacking)} site(s) ({', '.join(lacking[:5])}"
                        f"{'…' if len(lacking) > 5 else ''}): their trust's code is reported")
    if pd.isna(org[np.unique(site)]).any():
        warnings.append("some trusts have no ODS organisation code: the network's own trust "
                        "id is reported as the site code; map them before submitting")
    return pd.Series(per_site[site], dtype="str")


def _text(values: pd.Series) -> pd.Series:
    return values.astype("str").reset_index(drop=True)


def _dates(values: pd.Series) -> pd.Series:
    """CCYY-MM-DD text of dates (blank where there is none)."""
    days = pd.to_datetime(values.reset_index(drop=True)).to_numpy().astype("datetime64[D]")
    text = np.datetime_as_string(days, unit="D")
    return pd.Series(np.where(np.isnat(days), None, text), dtype="str")


def _optional(values: pd.Series, pattern: str, what: str, warnings: list[str]) -> pd.Series:
    """The values that match `pattern`; malformed ones are blanked and counted."""
    text = _text(values)
    bad = text.notna() & ~text.str.fullmatch(pattern).fillna(False)
    if bad.any():
        warnings.append(f"{int(bad.sum())} record(s) with a malformed {what}: left blank")
    return text.where(~bad)

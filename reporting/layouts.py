"""The published layouts of the two national returns, column by column with the rule each cell
must keep, and the check a built return must pass before it is written.

- DM01, the monthly diagnostics waiting times and activity return (NHS England): per provider
  and diagnostic test, patients still waiting at the month end in weeks-waited bands (completed
  weeks, 0 <01 to 12 <13 and 13+) with the total, and the tests done in the month split into
  waiting-list, planned and unscheduled activity. Sources: NHS England, "Monthly Diagnostic
  Waiting Times and Activity" (Diagnostics Definitions v5.3); "Diagnostics waiting times and
  activity: guidance on completing the monthly data collection" (NHS England, updated
  11 March 2015): sections 1 (patients still waiting), 2 (activity: waiting list, planned,
  unscheduled) and 3 (the 15 tests, of which imaging: MRI, CT, non-obstetric ultrasound,
  barium enema, DEXA).
- DID, the Diagnostic Imaging Dataset (NHS England / NHS Digital), version 1.0: one record per
  examination with the data items, in the order and with the cardinality of the DIDS XML Schema
  Specification Pack v1.0 (NHS Data Model and Dictionary, January 2014 release): personal and
  demographics, referral, imaging activity. Dates are written CCYY-MM-DD. DIDS v2.0 replaces
  it for activity from 1 April 2026; its technical output specification is not reproduced here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.exam_coding import is_snomed_ct_identifier
from reporting.errors import ReturnLayoutError

CellCheck = Callable[[pd.Series], np.ndarray]
"""Returns a boolean mask of the cells that break the rule."""


@dataclass(frozen=True)
class ReturnColumn:
    name: str
    rule: str
    check: CellCheck
    required: bool = True


@dataclass(frozen=True)
class ReturnLayout:
    name: str
    source: str
    columns: tuple[ReturnColumn, ...]

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]


def _pattern(regex: str) -> CellCheck:
    def bad(cells: pd.Series) -> np.ndarray:
        text = cells.astype("str")
        return ~text.str.fullmatch(regex).fillna(False).to_numpy(dtype=bool)
    return bad


def _count(cells: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(cells, errors="coerce")
    return ~(numbers.notna() & (numbers >= 0) & (numbers == np.floor(numbers))).to_numpy()


def _share(cells: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(cells, errors="coerce")
    return ~(numbers.notna() & (numbers >= 0) & (numbers <= 100)).to_numpy()


def _one_of(values: tuple[str, ...]) -> CellCheck:
    return lambda cells: ~cells.astype("str").isin(values).to_numpy()


def is_nhs_number(values: pd.Series) -> np.ndarray:
    """Ten digits whose last is the modulus 11 check digit of the first nine (weights 10..2;
    a remainder giving 10 is never valid)."""
    text = values.astype("str").fillna("")
    shaped = text.str.fullmatch(r"\d{10}").fillna(False).to_numpy(dtype=bool)
    digits = np.zeros((len(text), 10), np.int64)
    if shaped.any():
        raw = np.frombuffer("".join(text[shaped]).encode("ascii"), np.uint8).reshape(-1, 10)
        digits[shaped] = raw - ord("0")
    total = digits[:, :9] @ np.arange(10, 1, -1)
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    return shaped & (check != 10) & (check == digits[:, 9])


def _nhs_number(cells: pd.Series) -> np.ndarray:
    return ~is_nhs_number(cells)


def _snomed(cells: pd.Series) -> np.ndarray:
    text = cells.astype("str")
    distinct = text.dropna().unique()
    valid = [value for value in distinct if is_snomed_ct_identifier(value)]
    return ~text.isin(valid).to_numpy(dtype=bool)


DATE = r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
ODS_ORG = r"[A-Z0-9]{3,5}"
ODS_SITE = r"[A-Z0-9]{3,5}"
POSTCODE = r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}"
ETHNIC = r"[A-HJ-NPRSZ]|99"

DM01_TESTS_ALL = ("Magnetic Resonance Imaging", "Computed Tomography", "Non-obstetric Ultrasound",
                  "Barium Enema", "DEXA Scan")
DM01_BANDS = ("0 <01 Week", *[f"{w:02d} <{w + 1:02d} Weeks" for w in range(1, 13)], "13+ Weeks")

DM01 = ReturnLayout(
    name="DM01 diagnostic waiting times and activity",
    source="NHS England monthly diagnostics collection (DM01); Diagnostics Definitions v5.3; "
           "guidance on completing the monthly data collection (2015)",
    columns=(
        ReturnColumn("Period", "reporting month, CCYY-MM", _pattern(r"\d{4}-(0[1-9]|1[0-2])")),
        ReturnColumn("Provider Org Code", "ODS organisation code of the provider",
                     _pattern(ODS_ORG)),
        ReturnColumn("Provider Org Name", "provider name", _pattern(r".+")),
        ReturnColumn("Diagnostic Test Name", "one of the DM01 imaging tests",
                     _one_of(DM01_TESTS_ALL)),
        *[ReturnColumn(band, "patients still waiting at the month end, completed weeks", _count)
          for band in DM01_BANDS],
        ReturnColumn("Total Waiting List", "sum of the bands", _count),
        ReturnColumn("Waiting 6+ Weeks", "patients waiting 6 weeks or more", _count),
        ReturnColumn("Waiting 13+ Weeks", "patients waiting 13 weeks or more", _count),
        ReturnColumn("Percentage Waiting 6+ Weeks", "6+ weeks / total waiting × 100", _share),
        ReturnColumn("Waiting List Activity", "tests done in the month for waiting-list "
                     "patients (excluding planned)", _count),
        ReturnColumn("Planned Activity", "planned (surveillance) tests done", _count),
        ReturnColumn("Unscheduled Activity", "unscheduled (inpatient, A&E) tests done", _count),
        ReturnColumn("Total Activity", "sum of the three activity columns", _count),
    ),
)

DID = ReturnLayout(
    name="Diagnostic Imaging Dataset (DIDS v1.0)",
    source="DIDS XML Schema Specification Pack v1.0 (NHS Data Model and Dictionary, January "
           "2014 release): PersonalAndDemographics, Referrals, ImagingActivity",
    columns=(
        ReturnColumn("NHSNumber", "NHS NUMBER, n10 with a valid check digit", _nhs_number),
        ReturnColumn("NHSNumberStatus", "NHS NUMBER STATUS INDICATOR CODE, 01-08",
                     _pattern(r"0[1-8]"), required=False),
        ReturnColumn("PersonBirthDate", "PERSON BIRTH DATE", _pattern(DATE), required=False),
        ReturnColumn("EthnicCategory", "ETHNIC CATEGORY code", _pattern(ETHNIC), required=False),
        ReturnColumn("PersonGenderCode", "PERSON GENDER CODE: 0 not known, 1 male, 2 female, "
                     "9 not specified", _pattern(r"[0129]"), required=False),
        ReturnColumn("Address", "POSTCODE OF USUAL ADDRESS", _pattern(POSTCODE),
                     required=False),
        ReturnColumn("GPCodeRegistration", "GENERAL MEDICAL PRACTICE CODE (PATIENT "
                     "REGISTRATION)", _pattern(r"[A-Z0-9]{6}"), required=False),
        ReturnColumn("PatientSourceSetting", "PATIENT SOURCE SETTING TYPE (DIAGNOSTIC IMAGING), "
                     "01-07", _pattern(r"0[1-7]")),
        ReturnColumn("ReferrerCode", "REFERRER CODE, an8", _pattern(r"[A-Z0-9]{1,8}")),
        ReturnColumn("ReferringOrgCode", "REFERRING ORGANISATION CODE, ODS code",
                     _pattern(r"[A-Z0-9]{3,6}")),
        ReturnColumn("DiagnosticTestReqDate", "DIAGNOSTIC TEST REQUEST DATE", _pattern(DATE)),
        ReturnColumn("DiagnosticTestReqRecDate", "DIAGNOSTIC TEST REQUEST RECEIVED DATE",
                     _pattern(DATE)),
        ReturnColumn("ImagingCodeNICIP", "IMAGING CODE (NICIP)", _pattern(r"[A-Z]{5,6}"),
                     required=False),
        ReturnColumn("ImagingCodeSNOMEDCT", "IMAGING CODE (SNOMED CT)", _snomed,
                     required=False),
        ReturnColumn("DiagnosticTestDate", "DIAGNOSTIC TEST DATE", _pattern(DATE)),
        ReturnColumn("ServiceReportIssueDate", "SERVICE REPORT ISSUE DATE", _pattern(DATE),
                     required=False),
        ReturnColumn("ImagingSiteCode", "SITE CODE (OF IMAGING), ODS code", _pattern(ODS_SITE)),
        ReturnColumn("RadiologicalAccessionNumber", "RADIOLOGICAL ACCESSION NUMBER, an20",
                     _pattern(r"[A-Za-z0-9/\-_.]{1,20}")),
    ),
)


def layout_problems(frame: pd.DataFrame, layout: ReturnLayout) -> list[str]:
    """Every way `frame` breaks the layout: wrong columns or order, blank required cells,
    cells breaking a column's rule (first bad row named), and DID-only cross-column rules."""
    if list(frame.columns) != layout.names:
        return [f"columns are {list(frame.columns)}; {layout.name} needs {layout.names}"]
    problems = []
    for column in layout.columns:
        cells = frame[column.name]
        blank = (cells.isna() | (cells.astype("str") == "")).to_numpy()
        if column.required and blank.any():
            problems.append(f"{column.name}: blank in row {int(np.argmax(blank))} "
                            f"({column.rule})")
        bad = column.check(cells) & ~blank
        if bad.any():
            row = int(np.argmax(bad))
            problems.append(f"{column.name}: '{cells.iloc[row]}' in row {row} breaks the rule: "
                            f"{column.rule}")
    if layout is DID:
        problems += _did_rules(frame)
    return problems


def check_layout(frame: pd.DataFrame, layout: ReturnLayout) -> None:
    problems = layout_problems(frame, layout)
    if problems:
        raise ReturnLayoutError(f"{layout.name}: " + "; ".join(problems))


def _did_rules(frame: pd.DataFrame) -> list[str]:
    problems = []
    uncoded = (frame.ImagingCodeNICIP.isna() | (frame.ImagingCodeNICIP == "")).to_numpy() & (
        frame.ImagingCodeSNOMEDCT.isna() | (frame.ImagingCodeSNOMEDCT == "")).to_numpy()
    if uncoded.any():
        problems.append(f"row {int(np.argmax(uncoded))} has neither a NICIP nor a SNOMED CT code")
    repeated = frame.RadiologicalAccessionNumber.duplicated().to_numpy()
    if repeated.any():
        problems.append(f"RadiologicalAccessionNumber repeats in row {int(np.argmax(repeated))}")
    return problems

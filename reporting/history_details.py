"""Optional files a history folder may carry for the national returns, beside the files of
docs/history-schema.md (which by design hold no identifiers):

- `patient_identifiers.csv`: patient_id (→ patients.csv), nhs_number, nhs_number_status,
  birth_date (YYYY-MM-DD), ethnic_category, postcode, gp_practice_code;
- `request_details.csv`: request_id (→ requests.csv), requested_on (YYYY-MM-DD),
  source_setting (01-07), referrer_code, referring_org_code.

Every column but the id may be blank. A patient or request without a row keeps blank
details. A bad file raises ReportInputError naming the file, row (as the file shows it,
header = row 1) and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from domain.history import History
from reporting.errors import ReportInputError
from reporting.inputs import ReportInputs

PATIENT_FILE = "patient_identifiers.csv"
REQUEST_FILE = "request_details.csv"
PATIENT_COLUMNS = ("patient_id", "nhs_number", "nhs_number_status", "birth_date",
                   "ethnic_category", "postcode", "gp_practice_code")
REQUEST_COLUMNS = ("request_id", "requested_on", "source_setting", "referrer_code",
                   "referring_org_code")


def read_details(inputs: ReportInputs, history: History, folder: Path) -> ReportInputs:
    """`inputs` with the details of whichever of the two files exist in `folder`."""
    patients, requests = inputs.patients, inputs.requests
    path = folder / PATIENT_FILE
    if path.exists():
        patients = _merge(patients, _read(path, PATIENT_COLUMNS, ("birth_date",)),
                          pd.Index(history.patients.patient_id), path, "patient_id")
    path = folder / REQUEST_FILE
    if path.exists():
        requests = _merge(requests, _read(path, REQUEST_COLUMNS, ("requested_on",)),
                          pd.Index(history.requests.request_id), path, "request_id")
    return ReportInputs(**{**inputs.frames(), "patients": patients, "requests": requests})


def _read(path: Path, columns: tuple[str, ...], dates: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ReportInputError(str(path), f"cannot be read as CSV ({error})") from error
    for name in columns:
        if name not in frame.columns:
            raise ReportInputError(str(path), "missing column", name, 1)
    for name in frame.columns:
        if name not in columns:
            raise ReportInputError(str(path), "unknown column", name, 1)
    for name in dates:
        parsed = pd.to_datetime(frame[name], format="%Y-%m-%d", errors="coerce")
        bad = (parsed.isna() & frame[name].notna()).to_numpy()
        if bad.any():
            row = int(np.argmax(bad))
            raise ReportInputError(str(path), f"'{frame[name].iloc[row]}' is not a date as "
                                   "YYYY-MM-DD", name, row + 2)
        frame[name] = parsed.astype("datetime64[s]")
    return frame


def _merge(target: pd.DataFrame, details: pd.DataFrame, ids: pd.Index, path: Path,
           key: str) -> pd.DataFrame:
    position = ids.get_indexer(details[key])
    unknown = position < 0
    if unknown.any():
        row = int(np.argmax(unknown))
        raise ReportInputError(str(path), f"'{details[key].iloc[row]}' is not in the history",
                               key, row + 2)
    repeated = details[key].duplicated().to_numpy()
    if repeated.any():
        row = int(np.argmax(repeated))
        raise ReportInputError(str(path), f"'{details[key].iloc[row]}' appears twice", key,
                               row + 2)
    merged = target.copy()
    for name in details.columns:
        if name == key:
            continue
        column = merged[name].copy()
        column.iloc[position] = details[name].to_numpy()
        merged[name] = column
    return merged

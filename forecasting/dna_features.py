"""What is known about an appointment on the day it is booked, as model features.

A patient's record of DNAs and attendances counts only appointments that STARTED BEFORE THE DAY
THIS ONE WAS BOOKED (start < booked_date at 00:00). That is the right cut-off: the outcome of an
appointment is known once it has started, and the history gives the booking day but not its
time, so an earlier appointment on the booking day itself might still lie in the future when
the booking is made. Cutting at this appointment's `start` instead would leak outcomes that
happen between booking and start (a DNA last week says nothing the clerk knew a month ago).
Cancellations by the patient count the same way (a cancelled appointment that had started was
cancelled before it). Outcome, and anything recorded after booking, is never a feature."""

from __future__ import annotations

import numpy as np
import pandas as pd

NUMERIC_FEATURES = ("lead_time_days", "age_years", "imd_decile", "distance_km", "sms_reminder",
                    "start_hour", "prior_dna", "prior_attended", "prior_cancelled",
                    "prior_dna_rate")
CATEGORICAL_FEATURES = ("age_band", "weekday", "modality", "booking_channel", "priority",
                        "exam_family")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
AGE_BANDS = (0, 18, 40, 65, 80, 200)
AGE_BAND_NAMES = ("0-17", "18-39", "40-64", "65-79", "80+")
AT_BOOKING = "booking"
ON_THE_EVE = "eve"
_MINUTE_BITS = 24  # 2^24 minutes is 31 years of history


def dna_features(appointments: pd.DataFrame, patients: pd.DataFrame,
                 requests: pd.DataFrame, as_of: str = AT_BOOKING) -> pd.DataFrame:
    """One row per appointment (same order): FEATURES, plus `dna` (1, 0, or NaN when the
    appointment was cancelled and so has no attendance outcome) and `booked_date`/`start`."""
    patient = patients.set_index("patient_id")["imd_decile"]
    request = requests.set_index("request_id")[["priority", "exam_family"]]
    start = pd.to_datetime(appointments["start"])
    age = appointments["age_years"].to_numpy()
    features = pd.DataFrame({
        "lead_time_days": appointments["lead_time_days"].to_numpy(float),
        "age_years": age.astype(float),
        "imd_decile": patient.reindex(appointments["patient_id"]).to_numpy(float),
        "distance_km": appointments["distance_km"].to_numpy(float),
        "sms_reminder": _yes(appointments["sms_reminder"]),
        "start_hour": (start.dt.hour + start.dt.minute / 60).to_numpy(float),
        "age_band": pd.cut(age, AGE_BANDS, right=False, labels=AGE_BAND_NAMES).astype(str),
        "weekday": start.dt.day_of_week.astype(str).to_numpy(),
        "modality": appointments["modality"].astype(str).to_numpy(),
        "booking_channel": appointments["booking_channel"].astype(str).to_numpy(),
        "priority": request["priority"].reindex(appointments["request_id"]).astype(str)
        .to_numpy(),
        "exam_family": request["exam_family"].reindex(appointments["request_id"]).astype(str)
        .to_numpy(),
    }, index=appointments.index)
    prior = prior_outcomes(appointments, as_of)
    features = pd.concat([features, prior], axis=1)
    features["prior_dna_rate"] = (prior["prior_dna"] + 0.1) / (
        prior["prior_dna"] + prior["prior_attended"] + 1.0)
    outcome = appointments["outcome"].astype(str)
    features["dna"] = np.where(outcome == "dna", 1.0,
                               np.where(outcome == "attended", 0.0, np.nan))
    features["booked_date"] = pd.to_datetime(appointments["booked_date"]).to_numpy()
    features["start"] = start.to_numpy()
    return features


def prior_outcomes(appointments: pd.DataFrame, as_of: str = AT_BOOKING) -> pd.DataFrame:
    """Counts of each patient's DNAs, attendances and patient cancellations among appointments
    that started before the day this appointment was booked (`as_of` AT_BOOKING) or before
    its own day (ON_THE_EVE: what a reminder or backfill decision made the day before knows).
    Vectorised: one sort and one binary search over (patient, minute) keys."""
    codes, _ = pd.factorize(appointments["patient_id"])
    start = pd.to_datetime(appointments["start"]).to_numpy("datetime64[m]").astype(np.int64)
    moment = appointments["booked_date"] if as_of == AT_BOOKING else appointments["start"]
    booked = (pd.to_datetime(moment).to_numpy("datetime64[D]")
              .astype("datetime64[m]").astype(np.int64))
    origin = min(start.min(), booked.min())
    shift = np.int64(_MINUTE_BITS)
    event_key = (codes.astype(np.int64) << shift) | (start - origin)
    order = np.argsort(event_key, kind="stable")
    sorted_keys = event_key[order]
    outcome = appointments["outcome"].astype(str).to_numpy()[order]
    query = (codes.astype(np.int64) << shift) | (booked - origin)
    before = np.searchsorted(sorted_keys, query, side="left")
    first = np.searchsorted(sorted_keys, codes.astype(np.int64) << shift, side="left")
    counts = {}
    for column, value in (("prior_dna", "dna"), ("prior_attended", "attended"),
                          ("prior_cancelled", "cancelled_patient")):
        cumulative = np.concatenate([[0], np.cumsum(outcome == value)])
        counts[column] = (cumulative[before] - cumulative[first]).astype(float)
    return pd.DataFrame(counts, index=appointments.index)


def _yes(column: pd.Series) -> np.ndarray:
    if column.dtype == bool:
        return column.to_numpy(float)
    return column.astype(str).str.lower().isin(["yes", "true", "1"]).to_numpy(float)

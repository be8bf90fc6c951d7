import numpy as np
import pandas as pd

from forecasting.dna_features import (
    AT_BOOKING,
    FEATURES,
    ON_THE_EVE,
    dna_features,
    prior_outcomes,
)


def _appointments(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """(booked_date, start, outcome) for one patient."""
    return pd.DataFrame({
        "patient_id": "P1",
        "booked_date": pd.to_datetime([r[0] for r in rows]),
        "start": pd.to_datetime([r[1] for r in rows]),
        "outcome": [r[2] for r in rows],
    })


def test_prior_counts_use_only_appointments_that_started_before_the_booking_day():
    appointments = _appointments([
        ("2024-01-01", "2024-01-05T09:00", "dna"),
        ("2024-01-02", "2024-01-10T09:00", "attended"),
        ("2024-01-10", "2024-01-20T09:00", "cancelled_patient"),  # same-day start: not yet known
        ("2024-01-21", "2024-02-01T09:00", "attended"),
    ])
    prior = prior_outcomes(appointments)
    assert prior["prior_dna"].tolist() == [0, 0, 1, 1]
    assert prior["prior_attended"].tolist() == [0, 0, 0, 1]
    assert prior["prior_cancelled"].tolist() == [0, 0, 0, 1]


def test_other_patients_appointments_never_count():
    appointments = pd.concat([
        _appointments([("2024-01-01", "2024-01-02T09:00", "dna")]),
        _appointments([("2024-03-01", "2024-03-02T09:00", "attended")]).assign(patient_id="P2"),
    ], ignore_index=True)
    assert prior_outcomes(appointments)["prior_dna"].tolist() == [0, 0]


def test_changing_future_outcomes_leaves_every_earlier_booking_unchanged(history):
    """Leakage: shuffle and rewrite the outcome of every appointment starting on or after a
    date; the features of every appointment booked up to that date must not move."""
    appointments = history.appointments
    cut = pd.Timestamp("2025-03-01")
    future = appointments["start"] >= cut
    rng = np.random.default_rng(0)
    altered = appointments.copy()
    altered.loc[future, "outcome"] = rng.permutation(
        np.where(rng.random(future.sum()) < 0.5, "dna", "attended"))
    before = dna_features(appointments, history.patients, history.requests)
    after = dna_features(altered, history.patients, history.requests)
    earlier = appointments["booked_date"] <= cut
    assert earlier.sum() > 1000 and future.sum() > 1000
    pd.testing.assert_frame_equal(before.loc[earlier, list(FEATURES)],
                                  after.loc[earlier, list(FEATURES)])
    assert not before.loc[~earlier, "prior_dna"].equals(after.loc[~earlier, "prior_dna"])


def test_cancelled_appointments_have_no_label_and_others_do(history):
    features = dna_features(history.appointments, history.patients, history.requests)
    cancelled = history.appointments["outcome"].str.startswith("cancelled").to_numpy()
    assert features["dna"].isna().to_numpy().tolist() == cancelled.tolist()


def test_on_the_eve_the_record_also_counts_appointments_between_booking_and_start():
    appointments = _appointments([
        ("2024-01-01", "2024-01-05T09:00", "dna"),
        ("2024-01-02", "2024-01-10T09:00", "attended"),
    ])
    at_booking = prior_outcomes(appointments, AT_BOOKING)
    on_the_eve = prior_outcomes(appointments, ON_THE_EVE)
    assert at_booking["prior_dna"].tolist() == [0, 0]
    assert on_the_eve["prior_dna"].tolist() == [0, 1]

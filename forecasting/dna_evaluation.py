"""Honest evaluation of the DNA models: a split by time. Models learn from appointments that
had started before the cut-off date (their outcome was known then) and are scored on every
appointment booked on or after it; nothing booked later is seen in training. With the
generator's truth, the true probabilities are scored on the same appointments (the oracle)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from domain.history import History
from forecasting.accuracy import dna_summary
from forecasting.dna_features import AT_BOOKING, dna_features

if TYPE_CHECKING:  # scikit-learn loads only when models are fitted (keeps `cdip` start-up quick)
    from forecasting.dna_model import FittedDnaModel

TEST_SHARE = 0.25
MAX_TRAINING_ROWS = 1_000_000


class TooFewOutcomesError(ValueError):
    pass


@dataclass(frozen=True)
class DnaEvaluation:
    cutoff: pd.Timestamp
    training_from: pd.Timestamp  # earliest start among the training appointments
    training_rows: int  # rows the models were fitted on (after sampling)
    training_available: int  # rows with a known outcome before the cut-off
    models: dict[str, dict]
    best: str  # chosen by log loss on the calibration slice, never by the test set
    oracle: dict | None
    test_outcome: np.ndarray
    test_probability: dict[str, np.ndarray]
    fitted: dict[str, FittedDnaModel]


def evaluate_dna(history: History, seed: int = 0, max_training_rows: int = MAX_TRAINING_ROWS,
                 progress: Callable[[str], None] | None = None,
                 as_of: str = AT_BOOKING) -> DnaEvaluation:
    """Split by time, fit both models on (a seeded sample of) the earlier appointments, score
    the later ones. `as_of` chooses what the patient's record may include (dna_features)."""
    say = progress or (lambda _: None)
    say("building features")
    features = dna_features(history.appointments, history.patients, history.requests, as_of)
    training, test, cutoff = split_by_time(features)
    available = len(training)
    if available > max_training_rows:
        training = training.sample(max_training_rows, random_state=seed)
    outcome = test["dna"].to_numpy(int)
    fitted, scores, probability = {}, {}, {}
    from forecasting.dna_model import DNA_MODEL_NAMES, fit_dna_model

    for name in DNA_MODEL_NAMES:
        say(f"fitting {name} on {len(training):,} appointments")
        fitted[name] = fit_dna_model(name, training, seed)
        probability[name] = fitted[name].predict(test)
        scores[name] = dna_summary(outcome, probability[name])
    best = min(fitted, key=lambda name: fitted[name].calibration_log_loss)
    oracle = None
    if history.truth is not None:
        truth = history.truth.dna_probability.set_index("appointment_id")["p_dna"]
        ids = history.appointments.loc[test.index, "appointment_id"]
        oracle = dna_summary(outcome, truth.reindex(ids).to_numpy(float))
    return DnaEvaluation(cutoff, training["start"].min(), len(training), available, scores,
                         best, oracle, outcome, probability, fitted)


def split_by_time(features: pd.DataFrame,
                  test_share: float = TEST_SHARE) -> tuple[pd.DataFrame, pd.DataFrame,
                                                           pd.Timestamp]:
    """Training: outcome known and started before the cut-off. Test: outcome known, booked
    on or after it. The cut-off is the day by which 1 − `test_share` of them were booked."""
    scored = features[features["dna"].notna()]
    cutoff = scored["booked_date"].quantile(1 - test_share).normalize()
    training = scored[scored["start"] < cutoff]
    test = scored[scored["booked_date"] >= cutoff]
    for part, rows in (("training", training), ("test", test)):
        if rows["dna"].nunique() < 2:
            raise TooFewOutcomesError(
                f"the {part} period before/after {cutoff.date()} needs both DNAs and "
                "attendances; the history is too short or has no DNAs")
    return training, test, cutoff

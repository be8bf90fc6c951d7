"""DNA risk models: logistic regression and gradient boosting over the booking-time features,
each recalibrated (Platt scaling) on the latest stretch of its training window, which is later
in time than what the model was fitted on, as the appointments it will score are.
Saved with joblib, with a JSON of metadata (training window, features, metrics) beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    SplineTransformer,
    StandardScaler,
)

from forecasting.dna_features import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES

DNA_MODEL_NAMES = ("logistic", "boosting")
CALIBRATION_SHARE = 0.2
PRIOR_CAP = 5.0


class ModelFileError(ValueError):
    """A saved model that cannot be loaded (missing, or its metadata does not match)."""


@dataclass(frozen=True)
class FittedDnaModel:
    name: str
    model: Any  # a calibrated sklearn classifier over FEATURES
    calibration_log_loss: float

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(features[list(FEATURES)])[:, 1]


def fit_dna_model(name: str, training: pd.DataFrame, seed: int = 0) -> FittedDnaModel:
    """Fit on the earlier part of `training` (rows with a known outcome, any order) and
    calibrate on its latest CALIBRATION_SHARE by start."""
    ordered = training.sort_values("start", kind="stable")
    cut = int(len(ordered) * (1 - CALIBRATION_SHARE))
    fit_rows, calibration_rows = ordered.iloc[:cut], ordered.iloc[cut:]
    estimator = _estimator(name, seed)
    estimator.fit(fit_rows[list(FEATURES)], fit_rows["dna"].astype(int))
    calibrated = CalibratedClassifierCV(FrozenEstimator(estimator), method="sigmoid")
    calibrated.fit(calibration_rows[list(FEATURES)], calibration_rows["dna"].astype(int))
    probability = calibrated.predict_proba(calibration_rows[list(FEATURES)])[:, 1]
    loss = float(log_loss(calibration_rows["dna"].astype(int), probability, labels=[0, 1]))
    return FittedDnaModel(name, calibrated, loss)


def save_model(fitted: FittedDnaModel, directory: Path, metadata: dict[str, Any]) -> Path:
    """Write `<name>.joblib` and `<name>.json` (metadata plus the feature list)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"dna_{fitted.name}.joblib"
    joblib.dump(fitted, path)
    described = {**metadata, "model": fitted.name, "features": list(FEATURES),
                 "calibration_log_loss": fitted.calibration_log_loss}
    path.with_suffix(".json").write_text(json.dumps(described, indent=2, default=str))
    return path


def load_model(path: Path) -> tuple[FittedDnaModel, dict[str, Any]]:
    try:
        fitted = joblib.load(path)
        metadata = json.loads(path.with_suffix(".json").read_text())
    except FileNotFoundError as error:
        raise ModelFileError(f"{error.filename}: file not found") from None
    if not isinstance(fitted, FittedDnaModel) or metadata.get("features") != list(FEATURES):
        raise ModelFileError(f"{path}: not a DNA model of this version (features differ)")
    return fitted, metadata


def _estimator(name: str, seed: int) -> Pipeline:
    if name == "logistic":
        return _logistic()
    if name == "boosting":
        return _boosting(seed)
    raise ValueError(f"unknown DNA model '{name}'; choose one of {', '.join(DNA_MODEL_NAMES)}")


def _capped_log(values: np.ndarray) -> np.ndarray:
    return np.log1p(np.minimum(np.asarray(values, dtype=float), PRIOR_CAP))


def _logistic() -> Pipeline:
    """Smooth curves (splines) for lead time and distance on a log scale, age and time of day,
    since none of their effects need be a straight line in the logit; prior counts on a capped
    log scale; categories one-hot; the rest standardised."""
    log_scale = FunctionTransformer(np.log1p)
    columns = ColumnTransformer([
        ("lead", make_pipeline(log_scale, SplineTransformer(n_knots=6)), ["lead_time_days"]),
        ("distance", make_pipeline(log_scale, SplineTransformer(n_knots=4)), ["distance_km"]),
        ("age", SplineTransformer(n_knots=8), ["age_years"]),
        ("hour", SplineTransformer(n_knots=8), ["start_hour"]),
        ("prior", make_pipeline(FunctionTransformer(_capped_log), StandardScaler()),
         ["prior_dna", "prior_attended", "prior_cancelled"]),
        ("numeric", StandardScaler(), ["imd_decile", "sms_reminder", "prior_dna_rate"]),
        ("category", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
    ])
    return make_pipeline(columns, LogisticRegression(C=1.0, max_iter=2000))


def _boosting(seed: int) -> Pipeline:
    columns = ColumnTransformer([
        ("numeric", "passthrough", list(NUMERIC_FEATURES)),
        ("category", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                    encoded_missing_value=-1), list(CATEGORICAL_FEATURES)),
    ])
    categorical = list(range(len(NUMERIC_FEATURES), len(FEATURES)))
    classifier = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.06, max_leaf_nodes=15, min_samples_leaf=200,
        l2_regularization=1.0, categorical_features=categorical, early_stopping=False,
        random_state=seed)
    return make_pipeline(columns, classifier)

"""The figures forecasts and risk scores are judged by. Demand: MASE (scaled by the in-sample
seasonal naive error), WAPE, bias, interval coverage. DNA: ROC AUC, calibration slope and
intercept, Brier score, share of DNAs among the riskiest tenth."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

SEASON = 52
PROBABILITY_CLIP = 1e-6


def naive_scale(history: np.ndarray) -> np.ndarray:
    """Mean absolute error of the in-sample seasonal naive forecast of each row (lag 52), or of
    the naive forecast (lag 1) when the history is shorter than two seasons' worth of pairs."""
    lag = SEASON if history.shape[1] > SEASON + 4 else 1
    return np.abs(history[:, lag:] - history[:, :-lag]).mean(axis=1)


def scaled_errors(forecast: np.ndarray, actual: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """|error| / scale per point, series × horizon; NaN for series whose scale is 0."""
    safe = np.where(scale > 0, scale, np.nan)
    return np.abs(forecast - actual) / safe[:, None]


def demand_summary(scaled: np.ndarray, forecast: np.ndarray, actual: np.ndarray) -> dict:
    """MASE, WAPE and bias over all points given (any shape; NaN scaled errors are skipped)."""
    total = float(actual.sum())
    return {
        "mase": float(np.nanmean(scaled)),
        "wape": float(np.abs(forecast - actual).sum() / total) if total else float("nan"),
        "bias": float((forecast - actual).sum() / total) if total else float("nan"),
    }


def dna_summary(outcome: np.ndarray, probability: np.ndarray) -> dict:
    """AUC, calibration slope/intercept (logistic recalibration), Brier, top-decile capture."""
    outcome = np.asarray(outcome, dtype=int)
    probability = np.clip(np.asarray(probability, dtype=float), PROBABILITY_CLIP,
                          1 - PROBABILITY_CLIP)
    slope, intercept = calibration_line(outcome, probability)
    return {
        "auc": float(roc_auc_score(outcome, probability)),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "brier": float(brier_score_loss(outcome, probability)),
        "top_decile_capture": top_decile_capture(outcome, probability),
        "dna_rate": float(outcome.mean()),
        "mean_predicted": float(probability.mean()),
        "appointments": len(outcome),
    }


def calibration_line(outcome: np.ndarray, probability: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of logit P(dna) = a + b·logit(p): a perfect model has b=1, a=0."""
    logit = np.log(probability / (1 - probability)).reshape(-1, 1)
    fit = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=1000).fit(logit, outcome)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def top_decile_capture(outcome: np.ndarray, probability: np.ndarray) -> float:
    """Share of all DNAs that fall among the 10 % of appointments with the highest risk."""
    count = max(round(0.1 * len(probability)), 1)
    riskiest = np.argsort(-probability, kind="stable")[:count]
    return float(outcome[riskiest].sum() / max(outcome.sum(), 1))

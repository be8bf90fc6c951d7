import numpy as np
import pytest

from forecasting.accuracy import dna_summary, top_decile_capture
from forecasting.dna_evaluation import evaluate_dna, split_by_time
from forecasting.dna_features import FEATURES, dna_features
from forecasting.dna_model import ModelFileError, load_model, save_model


@pytest.fixture(scope="module")
def evaluation(history):
    return evaluate_dna(history, seed=3, max_training_rows=15_000)


def test_the_time_split_trains_only_on_outcomes_known_before_the_cutoff(history):
    features = dna_features(history.appointments, history.patients, history.requests)
    training, test, cutoff = split_by_time(features)
    assert (training["start"] < cutoff).all()
    assert (test["booked_date"] >= cutoff).all()


@pytest.mark.parametrize("model", ["logistic", "boosting"])
def test_models_rank_and_calibrate_close_to_the_true_probabilities(evaluation, model):
    scores = evaluation.models[model]
    assert scores["auc"] > evaluation.oracle["auc"] - 0.03
    assert 0.8 <= scores["calibration_slope"] <= 1.2
    assert abs(scores["mean_predicted"] - scores["dna_rate"]) < 0.02


@pytest.mark.parametrize("model", ["logistic", "boosting"])
def test_risk_rises_with_lead_time_and_with_prior_dnas(history, evaluation, model):
    features = dna_features(history.appointments, history.patients, history.requests)
    typical = features[features["prior_dna"] == 0].iloc[[0] * 2].copy()
    fitted = evaluation.fitted[model]
    typical["lead_time_days"] = [2.0, 35.0]
    short, long = fitted.predict(typical)
    typical["lead_time_days"] = 10.0
    typical["prior_dna"] = [0.0, 2.0]
    typical["prior_dna_rate"] = [0.1, 2.1 / 3.0]
    none, two = fitted.predict(typical)
    assert long > short * 1.5
    assert two > none * 1.5


def test_evaluation_is_reproducible_from_a_seed(history, evaluation):
    again = evaluate_dna(history, seed=3, max_training_rows=15_000)
    assert again.models == evaluation.models


def test_a_saved_model_reloads_with_its_metadata_and_predicts_the_same(tmp_path, history,
                                                                       evaluation):
    fitted = evaluation.fitted["logistic"]
    path = save_model(fitted, tmp_path, {"trained_on_start_before": "2025-06-01"})
    loaded, metadata = load_model(path)
    features = dna_features(history.appointments, history.patients, history.requests).head(50)
    assert np.array_equal(loaded.predict(features), fitted.predict(features))
    assert metadata["features"] == list(FEATURES)
    assert metadata["trained_on_start_before"] == "2025-06-01"
    with pytest.raises(ModelFileError, match="not found"):
        load_model(tmp_path / "dna_missing.joblib")


def test_the_true_probabilities_have_calibration_slope_near_one():
    rng = np.random.default_rng(4)
    probability = rng.beta(1, 12, 200_000)
    outcome = rng.random(probability.size) < probability
    scores = dna_summary(outcome, probability)
    assert scores["calibration_slope"] == pytest.approx(1.0, abs=0.05)
    assert scores["calibration_intercept"] == pytest.approx(0.0, abs=0.1)


def test_top_decile_capture_counts_dnas_among_the_riskiest_tenth():
    outcome = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0] * 2)
    probability = np.linspace(1, 0, 20)
    assert top_decile_capture(outcome, probability) == pytest.approx(0.5)

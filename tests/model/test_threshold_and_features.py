"""Pure model behaviour: cost-based threshold, metrics, features, hyperparameters (no MLflow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predmaint import schema
from predmaint.config import CostParams, Params
from predmaint.model import features, metrics
from predmaint.model.train import FitSettings, build_pipeline, fit, read_training_data, split_window
from tests.model.conftest import reconfigure


def test_threshold_minimises_expected_cost_on_hand_made_example() -> None:
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.60, 0.80, 0.90])
    costs = CostParams(missed_failure=10.0, false_alarm=1.0)
    t = metrics.choose_threshold(y, p, costs, grid_points=99)
    # Flagging >= 0.35 catches all 3 failures with 1 false alarm (cost 1); the cheapest run of grid
    # thresholds is (0.30, 0.35]; its middle is chosen.
    assert 0.30 < t <= 0.35
    assert metrics.expected_cost(y, p >= t, costs) == pytest.approx(1.0 / 10 * 1000)
    # When misses are cheap the rule stops raising alarms for the one failure among false alarms.
    cheap = CostParams(missed_failure=1.0, false_alarm=10.0)
    assert metrics.choose_threshold(y, p, cheap, grid_points=99) > 0.9


def test_grid_choice_is_the_brute_force_minimum() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.1
    p = np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1)
    costs = CostParams(missed_failure=7.0, false_alarm=1.0)
    t = metrics.choose_threshold(y, p, costs, grid_points=49)
    grid = np.linspace(0, 1, 51)[1:-1]
    brute = min(metrics.expected_cost(y, p >= g, costs) for g in grid)
    assert metrics.expected_cost(y, p >= t, costs) == pytest.approx(brute)


def test_mode_recall_is_none_without_positives() -> None:
    labels = pd.DataFrame({m: [0, 0, 0, 0] for m in schema.FAILURE_MODES}).assign(OSF=[1, 1, 0, 0])
    out = metrics.metrics([1, 1, 0, 0], [0.9, 0.1, 0.2, 0.1], 0.5, CostParams(missed_failure=1, false_alarm=1), labels)
    assert out["recall_OSF"] == 0.5
    assert out["recall_HDF"] is None
    assert "recall_HDF" not in metrics.numeric_only(out)


def test_mode_recall_counts_failures_only_on_a_hand_made_frame() -> None:
    """Rows 0-7: failure flags, mode flags and alarms chosen so each category has a known answer."""
    frame = pd.DataFrame(
        {
            schema.TARGET: [1, 1, 1, 1, 1, 0, 0, 1],
            "TWF": [1, 1, 0, 0, 0, 0, 0, 0],
            "HDF": [0, 0, 0, 0, 0, 0, 0, 0],
            "PWF": [0, 0, 1, 0, 0, 0, 0, 0],
            "OSF": [0, 0, 1, 1, 0, 1, 0, 0],  # row 5: an OSF flag on a non-failure
            "RNF": [0, 0, 0, 0, 0, 0, 1, 0],  # row 6: RNF on a non-failure (as in the AI4I file)
        }
    )
    alarms = np.array([0, 1, 1, 0, 1, 1, 1, 0], dtype=bool)
    out = metrics.metrics(
        frame[schema.TARGET], alarms.astype(float), 0.5, CostParams(missed_failure=1, false_alarm=1), frame
    )
    assert (out["recall_TWF"], out["failures_TWF"]) == (0.5, 2)
    assert (out["recall_PWF"], out["failures_PWF"]) == (1.0, 1)
    assert (out["recall_OSF"], out["failures_OSF"]) == (0.5, 2)  # row 5 is not a failure: not counted
    assert out["recall_RNF"] is None and out["failures_RNF"] == 0  # row 6: no RNF failure at all
    assert out["recall_HDF"] is None
    assert (out["recall_unexplained"], out["failures_unexplained"]) == (0.5, 2)  # rows 4 and 7
    # Independent recount: per category, alarms among the failure rows carrying it.
    failed = frame[schema.TARGET] == 1
    for mode in schema.FAILURE_MODES:
        members = (failed & (frame[mode] == 1)).to_numpy()
        assert out[f"recall_{mode}"] == (alarms[members].mean() if members.any() else None)
    assert (out["tp"], out["fn"], out["fp"], out["tn"]) == (3, 3, 2, 0)


def test_ids_and_labels_are_never_features(project: Params) -> None:
    frame = read_training_data(project.path(project.paths.reference))
    fitted = fit(FitSettings.of(project), frame)
    names = set(fitted.pipeline[:-1].get_feature_names_out())
    assert names.isdisjoint({*schema.ID_COLUMNS, *schema.LABEL_COLUMNS})
    assert {features.POWER, features.TEMP_DIFF, features.STRAIN, features.STRAIN_RATIO} <= names
    assert list(fitted.pipeline.named_steps["physics"].feature_names_in_) == list(schema.FEATURE_COLUMNS)
    with pytest.raises(ValueError, match="never features"):
        build_pipeline(project.physics, project.model).fit(frame.drop(columns=[schema.TARGET]), frame[schema.TARGET])


def test_validation_slice_is_the_chronological_tail_and_never_fitted(project: Params) -> None:
    frame = read_training_data(project.path(project.paths.reference))
    fit_rows, holdout = split_window(frame, project.training.validation_fraction)
    assert len(holdout) == round(len(frame) * project.training.validation_fraction)
    assert holdout[schema.UDI].tolist() == frame[schema.UDI].iloc[-len(holdout) :].tolist()
    assert fit_rows[schema.UDI].max() < holdout[schema.UDI].min()


def test_changed_n_estimators_changes_the_model(project: Params) -> None:
    frame = read_training_data(project.path(project.paths.reference))
    a = fit(FitSettings.of(project), frame)
    changed = reconfigure(project, model={"random_forest": {**project.model.random_forest, "n_estimators": 7}})
    b = fit(FitSettings.of(changed), frame)
    forest = getattr(b.pipeline[-1], "estimator", b.pipeline[-1])  # inside the calibrator
    assert len(forest.estimators_) == 7
    assert not np.array_equal(a.holdout_proba, b.holdout_proba)
    again = fit(FitSettings.of(project), frame)
    assert np.array_equal(a.holdout_proba, again.holdout_proba)


def test_each_algorithm_fits(project: Params) -> None:
    frame = read_training_data(project.path(project.paths.reference))
    for algorithm, hp in (("logistic_regression", {}), ("hist_gradient_boosting", {"max_iter": 20})):
        section = {**getattr(project.model, algorithm), **hp}
        params = reconfigure(project, model={"algorithm": algorithm, algorithm: section})
        fitted = fit(FitSettings.of(params), frame)
        classifier = getattr(fitted.pipeline[-1], "estimator", fitted.pipeline[-1])  # inside the calibrator
        assert type(classifier).__name__.lower().startswith(algorithm.split("_")[0][:4])
        assert 0 < fitted.threshold < 1

"""Pure model behaviour: cost-based threshold, metrics, features, hyperparameters (no MLflow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predmaint import schema
from predmaint.config import CostParams, Params
from predmaint.model import features, metrics
from predmaint.model.gate import decide, gate_rows, relative_gain
from predmaint.model.train import build_pipeline, fit, read_training_data, split_window
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


def test_ids_and_labels_are_never_features(project: Params) -> None:
    frame = read_training_data(project.path(project.paths.reference))
    fitted = fit(project, frame)
    names = set(fitted.pipeline[:-1].get_feature_names_out())
    assert names.isdisjoint({*schema.ID_COLUMNS, *schema.LABEL_COLUMNS})
    assert {features.POWER, features.TEMP_DIFF, features.STRAIN, features.STRAIN_RATIO} <= names
    assert list(fitted.pipeline.named_steps["physics"].feature_names_in_) == list(schema.FEATURE_COLUMNS)
    with pytest.raises(ValueError, match="never features"):
        build_pipeline(project).fit(frame.drop(columns=[schema.TARGET]), frame[schema.TARGET])


def test_validation_slice_is_the_chronological_tail_and_never_fitted(project: Params) -> None:
    frame = read_training_data(project.path(project.paths.reference))
    fit_rows, holdout = split_window(frame, project.training.validation_rows)
    assert len(holdout) == project.training.validation_rows
    assert holdout[schema.UDI].tolist() == frame[schema.UDI].iloc[-len(holdout) :].tolist()
    assert fit_rows[schema.UDI].max() < holdout[schema.UDI].min()


def test_changed_n_estimators_changes_the_model(project: Params) -> None:
    frame = read_training_data(project.path(project.paths.reference))
    a = fit(project, frame)
    changed = reconfigure(project, model={"random_forest": {**project.model.random_forest, "n_estimators": 7}})
    b = fit(changed, frame)
    assert len(b.pipeline[-1].estimators_) == 7
    assert not np.array_equal(a.holdout_proba, b.holdout_proba)
    again = fit(project, frame)
    assert np.array_equal(a.holdout_proba, again.holdout_proba)


def test_each_algorithm_fits(project: Params) -> None:
    frame = read_training_data(project.path(project.paths.reference))
    for algorithm, hp in (("logistic_regression", {}), ("hist_gradient_boosting", {"max_iter": 20})):
        section = {**getattr(project.model, algorithm), **hp}
        params = reconfigure(project, model={"algorithm": algorithm, algorithm: section})
        fitted = fit(params, frame)
        assert type(fitted.pipeline[-1]).__name__.lower().startswith(algorithm.split("_")[0][:4])
        assert 0 < fitted.threshold < 1


def test_gate_rule_and_rows() -> None:
    from predmaint.config import PromotionParams

    rule = PromotionParams(
        primary_metric="expected_cost_per_1000",
        min_gain=0.05,
        recall_tolerance=0.02,
        minimums={"f1": 0.5},
        recent_window_rows=100,
    )
    champ = {"expected_cost_per_1000": 100.0, "recall": 0.8, "f1": 0.7}
    better = {"expected_cost_per_1000": 90.0, "recall": 0.79, "f1": 0.7}
    assert relative_gain("expected_cost_per_1000", 90.0, 100.0) == pytest.approx(0.1)
    assert decide(rule, better, champ)[0]
    assert not decide(rule, {**better, "expected_cost_per_1000": 97.0}, champ)[0]
    assert not decide(rule, {**better, "recall": 0.7}, champ)[0]
    assert not decide(rule, {**better, "f1": 0.4}, None)[0]
    assert decide(rule, better, None)[0]
    holdout = pd.DataFrame({schema.UDI: [10, 11, 12, 13], schema.TARGET: [0, 1, 0, 1]})
    assert gate_rows(holdout, None, [(1, 11)])[schema.UDI].tolist() == [12, 13]
    with pytest.raises(ValueError, match="both classes"):
        gate_rows(holdout, None, [(1, 12)])

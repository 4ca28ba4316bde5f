"""Training: one sklearn Pipeline (physics features + encoding + classifier), fitted and thresholded (``run`` logs it).

The training window is ``paths.reference`` (the cleaned reference set) in time order. Its last
``training.validation_fraction`` is the validation slice: never fitted on, it calibrates the
probabilities (``training.calibration``, shipped inside the pipeline) and chooses the threshold by
minimum expected cost. Because it was tuned on, the promotion gate never judges the version on it.
The model is *not* refit on the whole window after the threshold is chosen, so the threshold is
the one the deployed model was validated with (docs/model.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from predmaint import schema
from predmaint.config import CostParams, ModelParams, Params, PhysicsParams, TrainingParams
from predmaint.data import split, tables
from predmaint.model import features, metrics

CLASSIFIERS: dict[str, type[Any]] = {
    "random_forest": RandomForestClassifier,
    "hist_gradient_boosting": HistGradientBoostingClassifier,
    "logistic_regression": LogisticRegression,
}


class TrainingDataError(RuntimeError):
    """The training data is missing or unusable; the message names the file and the fix."""


@dataclass(frozen=True)
class Fitted:
    """A fitted pipeline, its threshold and the chronological validation slice it was chosen on."""

    pipeline: Pipeline
    threshold: float
    threshold_source: str
    fit_rows: pd.DataFrame
    holdout: pd.DataFrame
    holdout_proba: npt.NDArray[np.float64]
    validation: dict[str, Any]


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced in the registry."""

    version: str
    run_id: str
    metrics: dict[str, Any]
    threshold: float
    model_uri: str
    metadata_path: Path


@dataclass(frozen=True)
class FitSettings:
    """The params.yaml sections fitting reads: the classifier, the training window rules, costs, physics."""

    model: ModelParams
    training: TrainingParams
    costs: CostParams
    physics: PhysicsParams

    @classmethod
    def of(cls, params: Params) -> FitSettings:
        """Unpack the sections from the whole params (at the edge: CLI, flow, stage, bench)."""
        return cls(params.model, params.training, params.costs, params.physics)


def build_classifier(model: ModelParams) -> Any:
    """The configured classifier with its hyperparameters and class weighting."""
    kwargs = {**model.hyperparameters(), "class_weight": model.class_weight}
    try:
        return CLASSIFIERS[model.algorithm](**kwargs)
    except TypeError as exc:
        raise ValueError(f"model.{model.algorithm}: invalid hyperparameter ({exc})") from None


def build_pipeline(physics: PhysicsParams, model: ModelParams) -> Pipeline:
    """Physics features → one-hot Type + scaled numerics → classifier, unfitted."""
    steps = [*features.build_preprocessor(physics), ("classifier", build_classifier(model))]
    return Pipeline(steps)


def read_training_data(path: Path) -> pd.DataFrame:
    """Read the training window and check it is usable.

    Raises:
        TrainingDataError: The file is missing (run ``predmaint clean``) or the labels are unusable.
    """
    if not path.is_file():
        raise TrainingDataError(
            f"training data {path} not found: run `predmaint ingest && predmaint split && predmaint clean` "
            "(or `dvc repro train`)"
        )
    frame = tables.read_table(path)
    bad = frame[schema.TARGET].isna() | ~frame[schema.TARGET].isin([0, 1])
    if bad.any():
        raise TrainingDataError(f"{path}: column '{schema.TARGET}' must be 0/1 ({int(bad.sum())} rows are not)")
    return frame


def split_window(frame: pd.DataFrame, validation_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cut the window in time order: rows to fit on, then the last ``validation_fraction`` of it.

    Raises:
        TrainingDataError: Too few rows, or a part lacks failures.
    """
    validation_rows = round(len(frame) * validation_fraction)
    if validation_rows < 1 or len(frame) - validation_rows < 1:
        raise TrainingDataError(
            f"training window has {len(frame)} rows; training.validation_fraction={validation_fraction} "
            "leaves no rows to fit or to validate"
        )
    fit_rows, holdout = frame.iloc[:-validation_rows], frame.iloc[-validation_rows:]
    for name, part in (("fit", fit_rows), ("validation", holdout)):
        if part[schema.TARGET].nunique() < 2:
            raise TrainingDataError(f"the {name} part of the training window has only one class")
    return fit_rows.reset_index(drop=True), holdout.reset_index(drop=True)


def calibrate(pipeline: Pipeline, holdout: pd.DataFrame, method: str) -> Pipeline:
    """Wrap the fitted classifier in a calibrator fitted on ``holdout`` (rows the fit did not use).

    The feature steps and the classifier stay frozen; only the probability map is learned, and the
    result is still ``physics → encode → classifier``, so the service's fast path is unchanged.
    """
    if method == "none":
        return pipeline
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator

    matrix = pipeline[:-1].transform(features.model_input(holdout))
    calibrated = (
        features.LogitCalibrated(pipeline[-1])
        if method == "logit"
        else CalibratedClassifierCV(FrozenEstimator(pipeline[-1]), method=method)
    )
    calibrated.fit(matrix, holdout[schema.TARGET].astype(int))
    return Pipeline([*pipeline.steps[:-1], ("classifier", calibrated)])


def fit(settings: FitSettings, frame: pd.DataFrame) -> Fitted:
    """Fit on the window minus the validation slice, calibrate and choose the threshold on the slice.

    Deterministic for given params and data (seeded, single-threaded): ``reproduce`` relies on it.
    """
    training, costs = settings.training, settings.costs
    fit_rows, holdout = split_window(frame, training.validation_fraction)
    pipeline = build_pipeline(settings.physics, settings.model)
    pipeline.fit(features.model_input(fit_rows), fit_rows[schema.TARGET].astype(int))
    pipeline = calibrate(pipeline, holdout, training.calibration)
    proba = pipeline.predict_proba(features.model_input(holdout))[:, 1]
    if training.threshold is not None:
        threshold, source = float(training.threshold), "fixed"
    else:
        threshold = metrics.choose_threshold(holdout[schema.TARGET], proba, costs, training.threshold_grid_points)
        source = "min_expected_cost"
    validation = metrics.metrics(holdout[schema.TARGET], proba, threshold, costs, holdout[list(schema.FAILURE_MODES)])
    return Fitted(pipeline, threshold, source, fit_rows, holdout, proba, validation)


def production_stream(params: Params, exclude: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """The labelled production days joined on UDI, minus every reading that is also in ``exclude``.

    Rows are matched on their readings (the model's input columns), not on ``UDI``: rows that came
    back through the prediction log get new ids in arrival order (``data.retrain``), which can
    coincide with the ids of other production rows. Returns None when nothing is left.
    """
    days = split.production_days(params)
    if not days:
        return None
    parts = []
    for day in days:
        feats, labels = split.load_day(params, day)
        parts.append(feats.merge(labels, on=schema.UDI, how="inner", validate="one_to_one"))
    stream = pd.concat(parts, ignore_index=True)
    if exclude is not None and not exclude.empty:
        stream = stream[~_readings_in(stream, exclude)].reset_index(drop=True)
    return stream if not stream.empty else None


def _readings_in(frame: pd.DataFrame, other: pd.DataFrame) -> pd.Series:
    """Per row of ``frame``: whether ``other`` holds a row with the same readings."""

    def keys(f: pd.DataFrame) -> pd.MultiIndex:
        numbers = f[list(schema.NUMERIC_FEATURES)].apply(pd.to_numeric).astype(float).round(6)
        return pd.MultiIndex.from_frame(numbers.assign(**{schema.TYPE: f[schema.TYPE].astype(str)}))

    return pd.Series(keys(frame).isin(keys(other)), index=frame.index)


def score(pipeline: Pipeline, frame: pd.DataFrame, threshold: float, costs: CostParams) -> dict[str, Any]:
    """Metrics of a fitted pipeline on an AI4I frame with labels."""
    proba = pipeline.predict_proba(features.model_input(frame))[:, 1]
    return metrics.metrics(frame[schema.TARGET], proba, threshold, costs, frame[list(schema.FAILURE_MODES)])

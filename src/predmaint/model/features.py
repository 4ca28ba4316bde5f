"""Feature engineering that ships inside the model artifact.

:func:`build_preprocessor` returns the first steps of the model pipeline: physics features
(:class:`PhysicsFeatures`), one-hot ``Type`` and scaled numerics. Training fits them, MLflow
stores them with the classifier, and the service loads the same object, so training and serving
cannot diverge. :func:`fast_predict_proba` is the service's numpy path through the *same fitted*
steps (checked equal to ``Pipeline.predict_proba`` in the tests).

The physics features state the documented failure rules (``physics`` in params.yaml, one
definition in :mod:`predmaint.physics`): the signed margin of a reading to every limit and which
rules fire. ``min_rule_margin`` and ``any_rule_fires`` are shared by all rules, so a model that
learned "a rule fires → failure" from PWF and OSF also flags a reading that breaks the HDF rule
when it never saw an HDF failure (docs/model.md, tests/model/test_rule_features.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from predmaint import physics, schema
from predmaint.config import PhysicsParams

POWER = "power_w"
TEMP_DIFF = "temp_diff_k"
STRAIN = "strain_minnm"
STRAIN_RATIO = "strain_ratio"
MARGINS: tuple[str, ...] = (
    "hdf_temp",
    "hdf_speed",
    "HDF",
    "power_low",
    "power_high",
    "PWF",
    "OSF",
    "twf_start",
    "twf_end",
)
RULE_FEATURES: tuple[str, ...] = (
    *(f"margin_{m}" for m in MARGINS),
    *(f"fires_{m}" for m in physics.RULE_MODES),
    "in_twf_window",
    "min_rule_margin",
    "rules_fired",
    "any_rule_fires",
)
DERIVED_FEATURES: tuple[str, ...] = (POWER, TEMP_DIFF, STRAIN, STRAIN_RATIO, *RULE_FEATURES)
MODEL_NUMERIC: tuple[str, ...] = (*schema.NUMERIC_FEATURES, *DERIVED_FEATURES)
FORBIDDEN_INPUTS: frozenset[str] = frozenset({*schema.ID_COLUMNS, *schema.LABEL_COLUMNS})


class PhysicsFeatures(TransformerMixin, BaseEstimator):
    """Add power, temperature difference, strain, and the margin to each documented failure rule.

    Args:
        rules: The ``physics`` section of params.yaml as a plain dict (stored in the artifact).
    """

    def __init__(self, rules: Mapping[str, Any] | None = None) -> None:
        self.rules = rules

    def fit(self, X: pd.DataFrame, y: Any = None) -> PhysicsFeatures:  # noqa: N803
        """Check the input columns and the rules; nothing is learned."""
        bad = FORBIDDEN_INPUTS.intersection(X.columns)
        if bad:
            raise ValueError(f"ids and labels are never features, got: {sorted(bad)}")
        if not self.rules:
            raise ValueError("rules (the physics section) are required")
        PhysicsParams.model_validate(dict(self.rules))
        self.feature_names_in_ = np.asarray(schema.FEATURE_COLUMNS, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        """Return the six input features plus the physics and rule features."""
        out = X.loc[:, list(schema.FEATURE_COLUMNS)].copy()
        derived = derive(
            out[schema.TYPE].to_numpy(), out[list(schema.NUMERIC_FEATURES)].to_numpy(dtype=float), self.rules or {}
        )
        return pd.concat([out, pd.DataFrame(derived, columns=list(DERIVED_FEATURES), index=out.index)], axis=1)

    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Names of the transformed columns."""
        return np.asarray([*schema.FEATURE_COLUMNS, *DERIVED_FEATURES], dtype=object)


def derive(product_type: npt.ArrayLike, numeric: npt.NDArray[np.float64], rules: Mapping[str, Any]) -> Any:
    """Compute the physics and rule features from the numeric inputs in ``schema.NUMERIC_FEATURES`` order.

    Returns:
        An ``(n, len(DERIVED_FEATURES))`` float array in ``DERIVED_FEATURES`` order.
    """
    params = PhysicsParams.model_validate(dict(rules))
    air, process, speed, torque, wear = (numeric[:, i] for i in range(5))
    strain = physics.strain_minnm(wear, torque)
    margins = physics.rule_margins(product_type, numeric, params)
    fires = [margins[m] < 0 for m in physics.RULE_MODES]
    rule_min = np.minimum.reduce([margins[m] for m in physics.RULE_MODES])
    fired = np.sum(fires, axis=0)
    return np.column_stack(
        [
            physics.power_w(torque, speed),
            physics.temp_diff_k(process, air),
            strain,
            strain / physics.osf_limit(product_type, params.osf_limit_minnm),
            *(margins[m] for m in MARGINS),
            *fires,
            (margins["twf_start"] >= 0) & (margins["twf_end"] >= 0),
            rule_min,
            fired,
            fired > 0,
        ]
    ).astype(float)


def build_preprocessor(params: PhysicsParams) -> list[tuple[str, Any]]:
    """The feature steps of the model pipeline, unfitted.

    Args:
        params: The ``physics`` section of params.yaml.

    Returns:
        ``[("physics", PhysicsFeatures), ("encode", ColumnTransformer)]`` to put before a classifier.
    """
    encode = ColumnTransformer(
        [
            (
                "type",
                OneHotEncoder(categories=[list(schema.PRODUCT_TYPES)], handle_unknown="error"),
                [schema.TYPE],
            ),
            ("numeric", StandardScaler(), list(MODEL_NUMERIC)),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    return [("physics", PhysicsFeatures(params.model_dump(mode="json"))), ("encode", encode)]


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns the model takes, in order, from any AI4I-shaped frame."""
    return frame.loc[:, list(schema.FEATURE_COLUMNS)]


def fast_predict_proba(pipeline: Pipeline, types: npt.ArrayLike, numeric: npt.NDArray[np.float64]) -> Any:
    """Failure probability through the fitted pipeline without building a DataFrame.

    Args:
        pipeline: A fitted pipeline made with :func:`build_preprocessor` + a classifier.
        types: Product type per reading (``L``/``M``/``H``).
        numeric: ``(n, 5)`` array of the numeric inputs in ``schema.NUMERIC_FEATURES`` order.

    Returns:
        The probability of class 1 for each reading.
    """
    physics_step: PhysicsFeatures = pipeline.named_steps["physics"]
    encode: ColumnTransformer = pipeline.named_steps["encode"]
    types_arr = np.asarray(types).astype(str)
    onehot_enc: OneHotEncoder = encode.named_transformers_["type"]
    scaler: StandardScaler = encode.named_transformers_["numeric"]
    categories = onehot_enc.categories_[0]
    unknown = ~np.isin(types_arr, categories)
    if unknown.any():
        raise ValueError(f"unknown product type(s): {sorted(set(types_arr[unknown]))}")
    derived = derive(types_arr, numeric, physics_step.rules or {})
    onehot = (types_arr[:, None] == categories[None, :]).astype(float)
    scaled = (np.hstack([numeric, derived]) - scaler.mean_) / scaler.scale_
    matrix = np.hstack([onehot, scaled])
    return pipeline.steps[-1][1].predict_proba(matrix)[:, 1]


class LogitCalibrated(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose probability is recalibrated by logistic regression on its log-odds.

    Platt scaling on the log-odds (rather than on the probability, as sklearn's ``sigmoid`` does)
    keeps the ranking and fits the near-0 and near-1 scores of a forest well. Only ``slope_`` and
    ``intercept_`` are learned; the wrapped classifier is never refit.

    Args:
        estimator: The fitted classifier (class 1 = failure).
        eps: Probabilities are clipped to [eps, 1 - eps] before the log-odds.
    """

    def __init__(self, estimator: Any = None, eps: float = 1e-4) -> None:
        self.estimator = estimator
        self.eps = eps

    def _logit(self, X: Any) -> Any:  # noqa: N803
        p = np.clip(self.estimator.predict_proba(X)[:, 1], self.eps, 1 - self.eps)
        return np.log(p / (1 - p))

    def fit(self, X: Any, y: Any) -> LogitCalibrated:  # noqa: N803
        """Fit slope and intercept on rows the classifier was not fitted on."""
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6, max_iter=1000).fit(self._logit(X)[:, None], np.asarray(y).astype(int))
        self.slope_, self.intercept_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: Any) -> Any:  # noqa: N803
        """Calibrated probabilities of class 0 and class 1."""
        p1 = 1.0 / (1.0 + np.exp(-(self.slope_ * self._logit(X) + self.intercept_)))
        return np.column_stack([1 - p1, p1])

    def predict(self, X: Any) -> Any:  # noqa: N803
        """Class 1 where the calibrated probability is at least 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

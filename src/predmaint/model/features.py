"""Feature engineering that ships inside the model artifact.

:func:`build_preprocessor` returns the first steps of the model pipeline: physics features
(:class:`PhysicsFeatures`), one-hot ``Type`` and scaled numerics. Training fits them, MLflow
stores them with the classifier, and the service loads the same object, so training and serving
cannot diverge. :func:`fast_predict_proba` is the service's numpy path through the *same fitted*
steps (checked equal to ``Pipeline.predict_proba`` in the tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from predmaint import physics, schema
from predmaint.config import PhysicsParams

POWER = "power_w"
TEMP_DIFF = "temp_diff_k"
STRAIN = "strain_minnm"
STRAIN_RATIO = "strain_ratio"
DERIVED_FEATURES: tuple[str, ...] = (POWER, TEMP_DIFF, STRAIN, STRAIN_RATIO)
MODEL_NUMERIC: tuple[str, ...] = (*schema.NUMERIC_FEATURES, *DERIVED_FEATURES)
FORBIDDEN_INPUTS: frozenset[str] = frozenset({*schema.ID_COLUMNS, *schema.LABEL_COLUMNS})


class PhysicsFeatures(TransformerMixin, BaseEstimator):
    """Add power, temperature difference, strain and strain relative to the type's limit.

    Args:
        osf_limit_minnm: Overstrain limit per product type [min·Nm].
    """

    def __init__(self, osf_limit_minnm: Mapping[str, float] | None = None) -> None:
        self.osf_limit_minnm = osf_limit_minnm

    def fit(self, X: pd.DataFrame, y: Any = None) -> PhysicsFeatures:  # noqa: N803
        """Check the input columns; nothing is learned."""
        bad = FORBIDDEN_INPUTS.intersection(X.columns)
        if bad:
            raise ValueError(f"ids and labels are never features, got: {sorted(bad)}")
        if not self.osf_limit_minnm:
            raise ValueError("osf_limit_minnm is required")
        self.feature_names_in_ = np.asarray(schema.FEATURE_COLUMNS, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        """Return the six input features plus the four physics features."""
        out = X.loc[:, list(schema.FEATURE_COLUMNS)].copy()
        derived = derive(
            out[schema.TYPE].to_numpy(),
            out[list(schema.NUMERIC_FEATURES)].to_numpy(dtype=float),
            self.osf_limit_minnm or {},
        )
        for i, name in enumerate(DERIVED_FEATURES):
            out[name] = derived[:, i]
        return out

    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Names of the transformed columns."""
        return np.asarray([*schema.FEATURE_COLUMNS, *DERIVED_FEATURES], dtype=object)


def derive(product_type: npt.ArrayLike, numeric: npt.NDArray[np.float64], limits: Mapping[str, float]) -> Any:
    """Compute the physics features from the numeric inputs in ``schema.NUMERIC_FEATURES`` order.

    Returns:
        An ``(n, 4)`` array: power [W], temperature difference [K], strain [min·Nm], strain ratio.
    """
    air, process, speed, torque, wear = (numeric[:, i] for i in range(5))
    strain = physics.strain_minnm(wear, torque)
    return np.column_stack(
        [
            physics.power_w(torque, speed),
            physics.temp_diff_k(process, air),
            strain,
            strain / physics.osf_limit(product_type, limits),
        ]
    )


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
    return [("physics", PhysicsFeatures(dict(params.osf_limit_minnm))), ("encode", encode)]


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
    derived = derive(types_arr, numeric, physics_step.osf_limit_minnm or {})
    onehot_enc: OneHotEncoder = encode.named_transformers_["type"]
    scaler: StandardScaler = encode.named_transformers_["numeric"]
    categories = onehot_enc.categories_[0]
    unknown = ~np.isin(types_arr, categories)
    if unknown.any():
        raise ValueError(f"unknown product type(s): {sorted(set(types_arr[unknown]))}")
    onehot = (types_arr[:, None] == categories[None, :]).astype(float)
    scaled = (np.hstack([numeric, derived]) - scaler.mean_) / scaler.scale_
    matrix = np.hstack([onehot, scaled])
    return pipeline.steps[-1][1].predict_proba(matrix)[:, 1]

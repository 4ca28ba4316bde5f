"""Settings of the model: classifier, training window, costs, MLflow names and the promotion gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from predmaint.config.base import Section


class _Hyper(BaseModel):
    """Known hyperparameters are checked; others pass through to scikit-learn as given."""

    model_config = ConfigDict(extra="allow", strict=True)


class RandomForestHyper(_Hyper):
    n_estimators: int = Field(default=100, ge=1)
    max_depth: int | None = Field(default=None, ge=1)
    max_features: float | int | Literal["sqrt", "log2"] | None = None
    min_samples_leaf: int | float = Field(default=1, gt=0)
    n_jobs: int | None = None
    random_state: int | None = None


class HistGradientBoostingHyper(_Hyper):
    max_iter: int = Field(default=100, ge=1)
    learning_rate: float = Field(default=0.1, gt=0)
    max_leaf_nodes: int | None = Field(default=31, ge=2)
    l2_regularization: float = Field(default=0.0, ge=0)
    random_state: int | None = None


class LogisticRegressionHyper(_Hyper):
    C: float = Field(default=1.0, gt=0)
    max_iter: int = Field(default=100, ge=1)


def _checked(value: dict[str, Any], model: type[_Hyper]) -> dict[str, Any]:
    try:
        model.model_validate(value)
    except ValidationError as exc:
        e = exc.errors()[0]
        key = ".".join(str(p) for p in e["loc"][:1])
        raise ValueError(f"'{key}' {e['msg'].lower()} (got {e.get('input')!r})") from None
    return value


class ModelParams(Section):
    algorithm: Literal["random_forest", "hist_gradient_boosting", "logistic_regression"]
    class_weight: Literal["balanced"] | None
    random_forest: dict[str, Any]
    hist_gradient_boosting: dict[str, Any]
    logistic_regression: dict[str, Any]

    @field_validator("random_forest")
    @classmethod
    def _forest(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _checked(value, RandomForestHyper)

    @field_validator("hist_gradient_boosting")
    @classmethod
    def _boosting(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _checked(value, HistGradientBoostingHyper)

    @field_validator("logistic_regression")
    @classmethod
    def _logistic(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _checked(value, LogisticRegressionHyper)

    def hyperparameters(self) -> dict[str, Any]:
        """Return the hyperparameters of the configured algorithm."""
        return dict(getattr(self, self.algorithm))


class TrainingParams(Section):
    validation_fraction: float = Field(gt=0, lt=1)
    calibration: Literal["logit", "sigmoid", "isotonic", "none"]
    threshold: float | None = Field(default=None, ge=0, le=1)
    threshold_grid_points: int = Field(gt=1)
    importance_repeats: int = Field(ge=1)


class CostParams(Section):
    missed_failure: float = Field(ge=0)
    false_alarm: float = Field(ge=0)


class MlflowParams(Section):
    tracking_uri: str
    artifact_root: Path
    experiment: str
    monitoring_experiment: str
    registered_model: str
    champion_alias: str
    challenger_alias: str


class PromotionParams(Section):
    confidence: float = Field(gt=0.5, lt=1)
    recall_margin: float = Field(ge=0, le=1)
    bootstrap_samples: int = Field(ge=100)
    minimums: dict[str, float]
    recent_window_rows: int = Field(gt=0)


class BacktestParams(Section):
    origins: list[int] = Field(min_length=1)
    horizon_rows: int = Field(gt=0)

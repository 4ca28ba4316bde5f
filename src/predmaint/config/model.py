"""Settings of the model: classifier, training window, costs, MLflow names and the promotion gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from predmaint.config.base import Section


class ModelParams(Section):
    algorithm: Literal["random_forest", "hist_gradient_boosting", "logistic_regression"]
    class_weight: Literal["balanced"] | None
    random_forest: dict[str, Any]
    hist_gradient_boosting: dict[str, Any]
    logistic_regression: dict[str, Any]

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

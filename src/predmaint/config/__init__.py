"""Typed, validated access to ``params.yaml`` — the single source of truth.

The file is read once per process by :func:`load_params` (:mod:`~predmaint.config.loader`). Every
key is validated by pydantic (unknown keys are errors too, so a typo cannot silently fall back to a
default). Any key can be overridden by an environment variable ``PREDMAINT_<SECTION>__<KEY>``
(nested keys joined with ``__``); a few common ones have short aliases. Relative paths are
resolved against the folder that holds the params file, so the project works from any working
directory. Each section's model sits in the module of the stage it configures: ``data``,
``model`` and ``operations``.
"""

from predmaint.config.data import (
    CleanParams,
    DataParams,
    PathParams,
    PhysicsParams,
    ProjectParams,
    QualityParams,
    ScenarioParams,
    SimulatorParams,
    SplitParams,
)
from predmaint.config.loader import (
    ENV_ALIASES,
    ENV_PREFIX,
    PARAMS_ENV,
    ConfigError,
    Params,
    default_params_path,
    get_params,
    load_params,
)
from predmaint.config.model import (
    BacktestParams,
    CostParams,
    MlflowParams,
    ModelParams,
    PromotionParams,
    TrainingParams,
)
from predmaint.config.operations import (
    MonitoringParams,
    OrchestrationParams,
    ReplayParams,
    RetentionParams,
    ServingParams,
)

__all__ = [
    "ENV_ALIASES",
    "ENV_PREFIX",
    "PARAMS_ENV",
    "BacktestParams",
    "CleanParams",
    "ConfigError",
    "CostParams",
    "DataParams",
    "MlflowParams",
    "ModelParams",
    "MonitoringParams",
    "OrchestrationParams",
    "Params",
    "PathParams",
    "PhysicsParams",
    "ProjectParams",
    "PromotionParams",
    "QualityParams",
    "ReplayParams",
    "RetentionParams",
    "ScenarioParams",
    "ServingParams",
    "SimulatorParams",
    "SplitParams",
    "TrainingParams",
    "default_params_path",
    "get_params",
    "load_params",
]

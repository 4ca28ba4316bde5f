"""Typed, validated access to ``params.yaml`` — the single source of truth.

The file is read once per process by :func:`load_params`. Every key is validated by pydantic
(unknown keys are errors too, so a typo cannot silently fall back to a default). Any key can be
overridden by an environment variable ``PREDMAINT_<SECTION>__<KEY>`` (nested keys joined with
``__``); a few common ones have short aliases (:data:`ENV_ALIASES`). Relative paths are resolved
against the folder that holds the params file, so the project works from any working directory.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from predmaint import schema

PARAMS_ENV = "PREDMAINT_PARAMS"
ENV_PREFIX = "PREDMAINT_"
ENV_ALIASES: dict[str, tuple[str, ...]] = {
    "PREDMAINT_DATA_PATH": ("data", "csv_path"),
    "PREDMAINT_TRACKING_URI": ("mlflow", "tracking_uri"),
    "PREDMAINT_API_HOST": ("serving", "host"),
    "PREDMAINT_API_PORT": ("serving", "port"),
}
_NOT_OVERRIDES = {PARAMS_ENV, "PREDMAINT_ADMIN_TOKEN"}


class ConfigError(RuntimeError):
    """The params file is missing, unreadable or invalid; the message names the file and key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectParams(_Section):
    name: str
    seed: int


class PathParams(_Section):
    data_dir: Path
    raw_dir: Path
    raw_file: Path
    interim_dir: Path
    reference_raw: Path
    processed_dir: Path
    reference: Path
    retrain_dir: Path
    production_dir: Path
    quarantine_dir: Path
    validation_dir: Path
    manifest: Path
    simulated_dir: Path
    contract: Path
    reports_dir: Path
    data_docs_dir: Path
    monitoring_dir: Path
    metrics_dir: Path
    models_dir: Path
    mlruns_dir: Path
    prediction_log: Path
    prediction_log_url: str = ""
    deployment_log: Path
    promotions_log: Path
    dvc_remote: Path
    run_dir: Path

    @field_validator("prediction_log_url")
    @classmethod
    def _log_url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be empty (SQLite at paths.prediction_log) or a postgresql:// URL")
        return value


class DataParams(_Section):
    source_order: list[Literal["path", "url", "simulator"]]
    csv_path: Path
    url: str
    url_member: str
    download_timeout_s: float = Field(gt=0)
    simulator_rows: int = Field(gt=0)


class SplitParams(_Section):
    train_rows: int = Field(gt=0)
    production_rows: int = Field(gt=0)
    batch_size: int = Field(gt=0)


class SpeedCurveParams(_Section):
    """The torque → rotational speed characteristic (piecewise linear between the knots)."""

    torque_nm: list[float] = Field(min_length=2)
    speed_rpm: list[float] = Field(min_length=2)

    @model_validator(mode="after")
    def _check_knots(self) -> SpeedCurveParams:
        if len(self.torque_nm) != len(self.speed_rpm):
            raise ValueError("torque_nm and speed_rpm need the same number of knots")
        if any(b <= a for a, b in zip(self.torque_nm, self.torque_nm[1:], strict=False)):
            raise ValueError("torque_nm knots must be strictly increasing")
        return self


def _per_type(value: dict[str, Any], shares: bool = False) -> dict[str, Any]:
    if set(value) != set(schema.PRODUCT_TYPES):
        raise ValueError(f"needs exactly the product types {list(schema.PRODUCT_TYPES)}, got {sorted(value)}")
    if shares and (min(value.values()) < 0 or abs(sum(value.values()) - 1.0) > 1e-6):
        raise ValueError("shares must be non-negative and sum to 1")
    return value


class ScenarioParams(_Section):
    """A named drift scenario: changes to the simulated process (unset fields change nothing)."""

    description: str
    air_temp_shift_k: float = 0.0
    process_temp_follow: float = Field(default=1.0, ge=0, le=1)
    type_mix: dict[str, float] | None = None
    torque_bias_nm: float = 0.0
    replacement_window_min: tuple[float, float] | None = None

    @field_validator("type_mix")
    @classmethod
    def _mix(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return None if value is None else _per_type(value, shares=True)


class SimulatorParams(_Section):
    seed: int
    rows: int = Field(gt=0)
    type_mix: dict[str, float]
    serial_offset: dict[str, int]
    air_temp_mean_k: float
    air_temp_sd_k: float = Field(gt=0)
    process_temp_offset_k: float
    process_temp_sd_k: float = Field(gt=0)
    process_air_corr: float = Field(ge=-1, le=1)
    walk_block_rows: int = Field(gt=1)
    speed_curve: SpeedCurveParams
    speed_noise_sd_rpm: float = Field(ge=0)
    torque_mean_nm: float
    torque_sd_nm: float = Field(gt=0)
    torque_min_nm: float = Field(gt=0)
    tool_wear_min_per_type: dict[str, int]
    replacement_window_min: tuple[float, float]
    rnf_probability: float = Field(ge=0, le=1)
    scenarios: dict[str, ScenarioParams]

    @field_validator("type_mix")
    @classmethod
    def _mix(cls, value: dict[str, float]) -> dict[str, float]:
        return _per_type(value, shares=True)

    @field_validator("serial_offset", "tool_wear_min_per_type")
    @classmethod
    def _types(cls, value: dict[str, int]) -> dict[str, int]:
        return _per_type(value)


class CleanParams(_Section):
    inconsistent_labels: Literal["drop", "keep"]
    excluded_rows_file: str


class QualityParams(_Section):
    example_rows: int = Field(ge=0)


class PhysicsParams(_Section):
    hdf_temp_diff_k: float
    hdf_speed_rpm: float
    power_limits_w: tuple[float, float]
    osf_limit_minnm: dict[str, float]
    twf_window_min: tuple[float, float]


class ModelParams(_Section):
    algorithm: Literal["random_forest", "hist_gradient_boosting", "logistic_regression"]
    class_weight: Literal["balanced"] | None
    random_forest: dict[str, Any]
    hist_gradient_boosting: dict[str, Any]
    logistic_regression: dict[str, Any]

    def hyperparameters(self) -> dict[str, Any]:
        """Return the hyperparameters of the configured algorithm."""
        return dict(getattr(self, self.algorithm))


class TrainingParams(_Section):
    validation_rows: int = Field(gt=0)
    threshold: float | None = Field(default=None, ge=0, le=1)
    threshold_grid_points: int = Field(gt=1)
    importance_repeats: int = Field(ge=1)


class CostParams(_Section):
    missed_failure: float = Field(ge=0)
    false_alarm: float = Field(ge=0)


class MlflowParams(_Section):
    tracking_uri: str
    artifact_root: Path
    experiment: str
    monitoring_experiment: str
    registered_model: str
    champion_alias: str
    challenger_alias: str


class PromotionParams(_Section):
    primary_metric: str
    min_gain: float = Field(ge=0)
    recall_tolerance: float = Field(ge=0)
    minimums: dict[str, float]
    recent_window_rows: int = Field(gt=0)


class ServingParams(_Section):
    host: str
    port: int = Field(ge=0, le=65535)
    workers: int = Field(ge=1)
    max_batch: int = Field(ge=1)
    max_body_bytes: int = Field(ge=1)
    reload_poll_s: float = Field(gt=0)
    microbatch_max_size: int = Field(ge=1)
    microbatch_max_wait_ms: float = Field(ge=0)
    admin_token_env: str
    explain_near_fraction: float = Field(gt=0, le=1)
    access_log: bool
    shutdown_timeout_s: float = Field(gt=0)
    registry_timeout_s: float = Field(gt=0)
    registry_max_retries: int = Field(ge=0)


class MonitoringParams(_Section):
    window_rows: int = Field(gt=0)
    drift_method: Literal["wasserstein", "psi", "ks", "kl_div", "jensenshannon", "hellinger", "energy_distance"]
    categorical_drift_method: Literal["jensenshannon", "psi", "chisquare", "kl_div", "hellinger", "TVD"]
    drift_threshold: float = Field(gt=0)
    categorical_drift_threshold: float = Field(gt=0)
    column_drift_thresholds: dict[str, float]
    drift_share_threshold: float = Field(gt=0, le=1)
    consecutive_windows: int = Field(ge=1)
    recall_drop: float = Field(ge=0)
    error_rate_ratio: float = Field(gt=0)
    performance_confidence: float = Field(ge=0.5, lt=1)
    min_labelled_rows: int = Field(ge=0)
    cooldown_windows: int = Field(ge=0)
    min_new_labelled_rows: int = Field(ge=0)
    decisions_log: Path

    @field_validator("column_drift_thresholds")
    @classmethod
    def _feature_columns(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(schema.FEATURE_COLUMNS))
        if unknown:
            raise ValueError(f"not feature columns: {unknown}; valid: {list(schema.FEATURE_COLUMNS)}")
        return value

    retrain_policy: Literal["expanding", "sliding"]
    sliding_window_rows: int = Field(gt=0)
    max_rows_for_drift: int = Field(gt=0)
    feedback_delay_s: float = Field(ge=0)


class ReplayParams(_Section):
    drift_scenario: str
    drift_rows: int = Field(gt=0)
    request_batch: int = Field(gt=0)


class OrchestrationParams(_Section):
    monitoring_cron: str
    work_pool: str
    prefect_port: int = Field(ge=0, le=65535)
    mlflow_port: int = Field(ge=0, le=65535)
    task_retries: int = Field(ge=0)
    task_retry_delay_s: float = Field(ge=0)
    batch_chunk_rows: int = Field(gt=0)
    batch_max_concurrency: int = Field(ge=1)
    dask_workers: int = Field(ge=1)
    dask_threads_per_worker: int = Field(ge=1)
    dask_host: str
    runner_limit: int = Field(ge=1)


class Params(_Section):
    """The whole of ``params.yaml``; ``root`` is the folder relative paths are resolved against."""

    root: Path
    project: ProjectParams
    paths: PathParams
    data: DataParams
    split: SplitParams
    simulator: SimulatorParams
    clean: CleanParams
    quality: QualityParams
    physics: PhysicsParams
    model: ModelParams
    training: TrainingParams
    costs: CostParams
    mlflow: MlflowParams
    promotion: PromotionParams
    serving: ServingParams
    monitoring: MonitoringParams
    replay: ReplayParams
    orchestration: OrchestrationParams

    def path(self, value: Path | str) -> Path:
        """Resolve a path from the params file against the project root."""
        p = Path(value)
        return p if p.is_absolute() else (self.root / p).resolve()

    @property
    def tracking_uri(self) -> str:
        """The MLflow tracking URI with a relative SQLite path made absolute."""
        uri = self.mlflow.tracking_uri
        prefix = "sqlite:///"
        if uri.startswith(prefix) and not uri.startswith(prefix + "/"):
            return prefix + str(self.path(uri[len(prefix) :]))
        return uri


def default_params_path() -> Path:
    """The params file: ``$PREDMAINT_PARAMS`` or ``params.yaml`` in the working directory."""
    return Path(os.environ.get(PARAMS_ENV, "params.yaml")).resolve()


def _env_overrides(environ: dict[str, str]) -> list[tuple[tuple[str, ...], str, str]]:
    found: list[tuple[tuple[str, ...], str, str]] = []
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in _NOT_OVERRIDES:
            continue
        if name in ENV_ALIASES:
            found.append((ENV_ALIASES[name], value, name))
        elif "__" in name:
            keys = tuple(k.lower() for k in name[len(ENV_PREFIX) :].split("__"))
            found.append((keys, value, name))
    return found


def _apply_override(raw: dict[str, Any], keys: tuple[str, ...], value: str, var: str, path: Path) -> None:
    node = raw
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            raise ConfigError(f"{var} overrides '{'.'.join(keys)}', which {path} does not have")
        node = node[key]
    if keys[-1] not in node:
        raise ConfigError(f"{var} overrides '{'.'.join(keys)}', which {path} does not have")
    node[keys[-1]] = yaml.safe_load(value) if value != "" else None


def _format_errors(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid parameters"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "missing":
            lines.append(f"  - missing key '{key}'")
        elif e["type"] == "extra_forbidden":
            lines.append(f"  - unknown key '{key}'")
        else:
            lines.append(f"  - key '{key}': {e['msg']} (got {e.get('input')!r})")
    return "\n".join(lines)


def load_params(path: Path | str | None = None, environ: dict[str, str] | None = None) -> Params:
    """Read, override from the environment, and validate the params file.

    Args:
        path: The params file; defaults to :func:`default_params_path`.
        environ: The environment to read overrides from; defaults to ``os.environ``.

    Returns:
        The validated parameters.

    Raises:
        ConfigError: The file is missing or unreadable, or a key is missing, unknown or of the
            wrong type. The message names the file and the key.
    """
    file = Path(path).resolve() if path is not None else default_params_path()
    if not file.is_file():
        raise ConfigError(f"{file}: params file not found (set {PARAMS_ENV} or run from the project root)")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: expected a mapping of sections at the top level")
    for keys, value, var in _env_overrides(dict(os.environ if environ is None else environ)):
        _apply_override(raw, keys, value, var, file)
    raw["root"] = file.parent
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(file, exc)) from None


@lru_cache(maxsize=8)
def _cached(path: str, env_key: tuple[tuple[str, str], ...]) -> Params:
    return load_params(path, dict(env_key))


def get_params(path: Path | str | None = None) -> Params:
    """Return the params for this process, read once per (file, environment) pair."""
    file = str(Path(path).resolve() if path is not None else default_params_path())
    env_key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)))
    return _cached(file, env_key)

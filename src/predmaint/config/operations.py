"""Settings of running the system: serving, monitoring and its trigger, replay, orchestration."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from predmaint import schema
from predmaint.config.base import Section


class ServingParams(Section):
    host: str
    port: int = Field(ge=0, le=65535)
    workers: int = Field(ge=1)
    max_batch: int = Field(ge=1)
    max_body_bytes: int = Field(ge=1)
    reload_poll_s: float = Field(gt=0)
    microbatch_max_size: int = Field(ge=1)
    microbatch_max_wait_ms: float = Field(ge=0)
    microbatch_idle_ms: float = Field(gt=0)
    admin_token_env: str
    explain_near_fraction: float = Field(gt=0, le=1)
    access_log: bool
    event_loop: Literal["asyncio", "uvloop"]
    shutdown_timeout_s: float = Field(gt=0)
    registry_timeout_s: float = Field(gt=0)
    registry_max_retries: int = Field(ge=0)
    max_errors: int = Field(ge=1, le=1000)
    max_queue: int = Field(ge=1)
    queue_budget_ms: float = Field(gt=0)
    retry_after_s: int = Field(ge=1)
    trusted_hosts: list[str] = Field(min_length=1)
    predict_tokens_env: str
    feedback_tokens_env: str


class MonitoringParams(Section):
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
    rules: list[Literal["drift", "recall", "error_rate", "cost", "alarm_rate", "failure_rate", "physics_tail"]]
    evidence_windows: int = Field(ge=1)
    cost_ratio: float = Field(gt=0)
    alarm_rate_ratio: float = Field(gt=0)
    failure_rate_ratio: float = Field(gt=0)
    tail_quantile: float = Field(gt=0.5, lt=1)
    tail_ratio: float = Field(gt=0)
    tail_quantities: dict[
        Literal["tool_wear_min", "power_w", "strain_ratio", "temp_diff_k"], Literal["upper", "lower", "both"]
    ]

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


class RetentionParams(Section):
    """How much of the prediction log stays live; older rows move to Parquet data versions.

    Retention only ever archives a prediction whose label has been used by a retraining, or that got
    no usable label (none, or none with a recorded source) within ``label_expiry_days``; among those,
    the newest ``horizon_rows`` (or those younger than ``horizon_days``) stay live. Give exactly one horizon.
    """

    horizon_rows: int | None = Field(default=None, gt=0)
    horizon_days: float | None = Field(default=None, gt=0)
    label_expiry_days: float = Field(gt=0)
    archive_batch_rows: int = Field(gt=0)

    @model_validator(mode="after")
    def _one_horizon(self) -> RetentionParams:
        if (self.horizon_rows is None) == (self.horizon_days is None):
            raise ValueError("give exactly one of horizon_rows and horizon_days (the other null)")
        return self


class ReplayParams(Section):
    drift_scenario: str
    drift_rows: int = Field(gt=0)
    drift_days: int = Field(ge=1)
    request_batch: int = Field(gt=0)


class OrchestrationParams(Section):
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

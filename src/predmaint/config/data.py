"""Settings of the data stages: project, paths, ingest sources, split, simulator, cleaning, gate, physics."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from predmaint import schema
from predmaint.config.base import Section


class ProjectParams(Section):
    name: str
    seed: int


class PathParams(Section):
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
    prediction_archive_dir: Path
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


class DataParams(Section):
    source_order: list[Literal["path", "url", "simulator"]]
    csv_path: Path
    url: str
    url_member: str
    download_timeout_s: float = Field(gt=0)
    simulator_rows: int = Field(gt=0)


class SplitParams(Section):
    train_rows: int = Field(gt=0)
    production_rows: int = Field(gt=0)
    batch_size: int = Field(gt=0)


class SpeedCurveParams(Section):
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


class WearClockParams(Section):
    """A tool's wear clock: ``start_min`` + ``weibull_scale_min`` × Weibull(``weibull_shape``) minutes."""

    start_min: float = Field(ge=0)
    weibull_shape: float = Field(gt=0)
    weibull_scale_min: float = Field(gt=0)


class ScenarioParams(Section):
    """A named drift scenario: changes to the simulated process (unset fields change nothing)."""

    description: str
    air_temp_shift_k: float = 0.0
    process_temp_follow: float = Field(default=1.0, ge=0, le=1)
    type_mix: dict[str, float] | None = None
    torque_bias_nm: float = 0.0
    tool_replacement_wear: WearClockParams | None = None

    @field_validator("type_mix")
    @classmethod
    def _mix(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return None if value is None else _per_type(value, shares=True)


class SimulatorParams(Section):
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
    tool_failure_wear: WearClockParams
    tool_replacement_wear: WearClockParams
    rnf_probability: float = Field(ge=0, le=1)
    rnf_is_failure: bool
    unexplained_failure_probability: float = Field(ge=0, le=1)
    scenarios: dict[str, ScenarioParams]

    @field_validator("type_mix")
    @classmethod
    def _mix(cls, value: dict[str, float]) -> dict[str, float]:
        return _per_type(value, shares=True)

    @field_validator("serial_offset", "tool_wear_min_per_type")
    @classmethod
    def _types(cls, value: dict[str, int]) -> dict[str, int]:
        return _per_type(value)


class CleanParams(Section):
    inconsistent_labels: Literal["drop", "keep"]
    excluded_rows_file: str


class QualityParams(Section):
    example_rows: int = Field(ge=0)


class PhysicsParams(Section):
    hdf_temp_diff_k: float
    hdf_speed_rpm: float
    power_limits_w: tuple[float, float]
    osf_limit_minnm: dict[str, float]
    twf_window_min: tuple[float, float]
